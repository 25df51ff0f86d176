// A GX's notifications as the remote source reads them: the topic `N/<portal>/<type>/<instance>
// /<path>` (N1) and the payload `{"value":…}` with `min`/`max` (N2), `{"value":null}` (invalid,
// N4) or empty (the item is gone, S1). Anything else from the broker is reported, never thrown.
import { parseJsonLiteral } from '../bridge/json-literal';
import { INVALID, TypedValue } from '../bridge/typed-value';
import { typedFromLiteral } from './json-typed';

/** Topics of the protocol itself, not items (K3, K7, K10, §8). */
export type SpecialTopic = 'heartbeat' | 'keepalive' | 'full_publish_completed' | 'other';

export type ParsedTopic =
  /** key: `<type>/<instance>` as in the topic */
  | { kind: 'item'; key: string; type: string; instance: string; path: string }
  | { kind: 'special'; name: SpecialTopic }
  | { kind: 'invalid'; why: string };

const TYPE = /^[A-Za-z0-9_]+$/;
/** an instance is a number or a text identifier (I2): one topic level, printable, no wildcards */
const INSTANCE = /^[^\s/+#\p{Cc}]{1,64}$/u;
/** a D-Bus object path below the root (dbus_validate_path), in one test */
const OBJECT_PATH = /^(?:\/[A-Za-z0-9_]+)+$/;
const MAX_TOPIC_LENGTH = 1024;

/** Parses the part of a notification topic after `N/<portal>/`. */
export function parseNotificationTopic(rest: string): ParsedTopic {
  if (rest.length > MAX_TOPIC_LENGTH) return { kind: 'invalid', why: 'topic too long' };
  const slash = rest.indexOf('/');
  if (slash < 0) {
    if (rest === 'heartbeat' || rest === 'keepalive' || rest === 'full_publish_completed') return { kind: 'special', name: rest };
    return { kind: 'special', name: 'other' };
  }
  const type = rest.slice(0, slash);
  if (type === 'GuiCustomizations') return { kind: 'special', name: 'other' }; // GUI v2 apps (§8), not items
  const slash2 = rest.indexOf('/', slash + 1);
  if (slash2 < 0) return { kind: 'invalid', why: 'no path after <type>/<instance>' };
  const instance = rest.slice(slash + 1, slash2);
  const path = rest.slice(slash2);
  if (!TYPE.test(type)) return { kind: 'invalid', why: `'${clip(type)}' is not a service type` };
  if (!INSTANCE.test(instance)) return { kind: 'invalid', why: `'${clip(instance)}' is not a device instance` };
  if (!OBJECT_PATH.test(path)) return { kind: 'invalid', why: `'${clip(path)}' is not a D-Bus object path` };
  return { kind: 'item', key: rest.slice(0, slash2), type, instance, path };
}

export type DecodedPayload =
  | { kind: 'value'; value: TypedValue; min?: TypedValue; max?: TypedValue }
  | { kind: 'gone' }
  | { kind: 'bad'; why: string };

/** `{"value":<number>}`, the payload of nearly every notification, without the general parser. */
const PLAIN_NUMBER = /^\{"value":(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][+-]?[0-9]+)?\}$/;
const INT32_DIGITS = 9; // any integer of at most 9 digits fits int32

export function decodeItemPayload(payload: Buffer, maxBytes: number): DecodedPayload {
  if (payload.length === 0) return { kind: 'gone' };
  if (payload.length > maxBytes) return { kind: 'bad', why: `payload of ${payload.length} bytes is over the ${maxBytes}-byte limit` };
  const text = payload.toString('utf8');
  // U+FFFD stands in for bytes that are not UTF-8; a real U+FFFD survives the round trip
  if (text.includes('\ufffd') && !Buffer.from(text, 'utf8').equals(payload)) return { kind: 'bad', why: 'payload is not valid UTF-8' };
  const plain = text.startsWith('{"value":');
  if (plain && text.charCodeAt(9) === 0x22 && text.endsWith('"}')) {
    const body = text.slice(10, -2);
    if (isPlainString(body)) return { kind: 'value', value: { signature: 's', value: body } };
  }
  const m = plain && text.length < 64 ? PLAIN_NUMBER.exec(text) : null;
  if (m) {
    if (m[2] || m[3]) return { kind: 'value', value: { signature: 'd', value: Number(m[1] + (m[2] ?? '') + (m[3] ?? '')) } };
    const digits = m[1][0] === '-' ? m[1].length - 1 : m[1].length;
    if (digits <= INT32_DIGITS) return { kind: 'value', value: { signature: 'i', value: Number(m[1]) } };
  }
  if (text === '{"value":null}') return { kind: 'value', value: INVALID };
  let lit;
  try {
    lit = parseJsonLiteral(text);
  } catch (e) {
    return { kind: 'bad', why: (e as Error).message };
  }
  if (lit.kind !== 'object') return { kind: 'bad', why: 'payload is not a JSON object' };
  const value = lit.entries.get('value');
  if (!value) return { kind: 'bad', why: "payload has no 'value'" };
  const out: DecodedPayload = { kind: 'value', value: typedFromLiteral(value) };
  const min = lit.entries.get('min');
  const max = lit.entries.get('max');
  if (min) out.min = typedFromLiteral(min);
  if (max) out.max = typedFromLiteral(max);
  return out;
}

/** A JSON string body that needs no decoding: no quote, backslash or control character. */
function isPlainString(body: string): boolean {
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** `full_publish_completed`: the echo it carries, if any (K5). */
export function completionEcho(payload: Buffer): string | undefined {
  try {
    const v = JSON.parse(payload.toString('utf8')) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const echo = (v as Record<string, unknown>)['full-publish-completed-echo'];
      if (typeof echo === 'string') return echo;
    }
  } catch {
    /* no echo */
  }
  return undefined;
}

function clip(s: string): string {
  return s.length > 40 ? s.slice(0, 40) + '…' : s;
}
