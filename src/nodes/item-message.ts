// The message a flow gets for one item (gx-notify and gx-read): msg.topic is the N topic,
// msg.payload the value (or {value, min, max}), msg.gx where it came from. The BLE pincode and
// the access-point password are "******" as on MQTT (J4), unless the node opted in.
import { ReadItem, UpdateCause } from '../bridge/engine';
import { isMaskedSetting } from '../bridge/payload';

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
}

/** Whether an item's value is a secret that flows see masked (J4: string values only). */
export function isSecret(type: string, path: string, value: unknown): boolean {
  return typeof value === 'string' && isMaskedSetting(type, path);
}

export function itemMessage(r: ReadItem, cause: UpdateCause, portal: string | undefined, opts: MessageOptions): ItemMessage {
  const value = !opts.revealSecrets && isSecret(r.type, r.path, r.value) ? MASKED_VALUE : r.value;
  let payload: unknown;
  if (cause === 'vanish') payload = null;
  else if (opts.payloadMode === 'object') {
    const o: Record<string, unknown> = { value };
    if (r.min !== undefined) o.min = r.min;
    if (r.max !== undefined) o.max = r.max;
    payload = o;
  } else payload = value;
  return {
    topic: r.topic,
    payload,
    gx: { service: r.service, type: r.type, instance: r.instance, path: r.path, portalId: portal, cause },
  };
}
