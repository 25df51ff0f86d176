// The message a flow gets for one item (gx-notify and gx-read): msg.topic is the N topic,
// msg.payload the value (or {value, min, max}), msg.gx where it came from; msg.text is the
// service's own text for the value, msg.label / msg.unit / msg.enum what the path catalogue
// knows of the path (each absent when unknown). The BLE pincode and the access-point password
// are "******" as on MQTT (J4), their text too, unless the node opted in.
import { ReadItem, UpdateCause } from '../bridge/engine';
import { isMaskedSetting } from '../bridge/payload';
import { describePath } from '../catalogue';

export type PayloadMode = 'value' | 'object';

export const MASKED_VALUE = '******';

export interface MessageOptions {
  payloadMode: PayloadMode;
  /** show masked settings in clear (the node's explicit opt-in) */
  revealSecrets?: boolean;
}

export interface GxInfo {
  service: string;
  type: string;
  instance: string;
  path: string;
  portalId: string | undefined;
  cause: UpdateCause;
}

export interface ItemMessage {
  topic: string;
  payload: unknown;
  gx: GxInfo;
  /** the service's text for the value ("52.10V", "Bulk") */
  text?: string;
  /** the catalogue's label of the path ("State of charge") */
  label?: string;
  /** the catalogue's unit of the value ("%", "W") */
  unit?: string;
  /** the catalogue's name of the current value of an enumeration ("Bulk") */
  enum?: string;
}

/** The properties itemMessage sets only when known; a copied input message must not keep its own. */
export const DESCRIPTIVE_KEYS = ['text', 'label', 'unit', 'enum'] as const;

/** Whether an item's value is a secret that flows see masked (J4: string values only). */
export function isSecret(type: string, path: string, value: unknown): boolean {
  return typeof value === 'string' && isMaskedSetting(type, path);
}

export function itemMessage(r: ReadItem, cause: UpdateCause, portal: string | undefined, opts: MessageOptions): ItemMessage {
  const masked = !opts.revealSecrets && isMaskedSetting(r.type, r.path);
  const value = masked && isSecret(r.type, r.path, r.value) ? MASKED_VALUE : r.value;
  let payload: unknown;
  if (cause === 'vanish') payload = null;
  else if (opts.payloadMode === 'object') {
    const o: Record<string, unknown> = { value };
    if (r.min !== undefined) o.min = r.min;
    if (r.max !== undefined) o.max = r.max;
    payload = o;
  } else payload = value;
  const msg: ItemMessage = {
    topic: r.topic,
    payload,
    gx: { service: r.service, type: r.type, instance: r.instance, path: r.path, portalId: portal, cause },
  };
  // the text of a masked setting would give the secret away, whatever the value's type
  if (cause !== 'vanish' && r.text !== undefined && r.text !== '') msg.text = masked ? MASKED_VALUE : r.text;
  const d = describePath(r.type, r.path);
  if (d) {
    msg.label = d.label;
    if (d.unit !== undefined) msg.unit = d.unit;
    const name = cause === 'vanish' || !d.enum ? undefined : d.enum(value);
    if (name !== undefined) msg.enum = name;
  }
  return msg;
}
