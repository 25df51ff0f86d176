// The message a flow gets for one item (gx-notify and gx-read): msg.topic is the N topic,
// msg.payload the value (or {value, min, max}), msg.gx where it came from.
import { ReadItem, UpdateCause } from '../bridge/engine';

export type PayloadMode = 'value' | 'object';

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

export function itemMessage(r: ReadItem, cause: UpdateCause, portal: string | undefined, mode: PayloadMode): ItemMessage {
  let payload: unknown;
  if (cause === 'vanish') payload = null;
  else if (mode === 'object') {
    const o: Record<string, unknown> = { value: r.value };
    if (r.min !== undefined) o.min = r.min;
    if (r.max !== undefined) o.max = r.max;
    payload = o;
  } else payload = r.value;
  return {
    topic: r.topic,
    payload,
    gx: { service: r.service, type: r.type, instance: r.instance, path: r.path, portalId: portal, cause },
  };
}
