// D-Bus values to notification payloads, byte for byte as dbus-flashmq writes them
// (spec §1.5, J1–J4, N2): `{"value":…}` plus `min`/`max` once known, keys sorted, no spaces.
import { firstType, memberTypes, TypedValue } from './typed-value';
import { formatDouble } from './json-number';

/** JSON text of one D-Bus value of the given complete signature. */
export function encodeValue(sig: string, v: unknown): string {
  switch (sig[0]) {
    case 'd':
      return formatDouble(v as number);
    case 'y': case 'n': case 'q': case 'i': case 'u': case 'x': case 't':
      return String(v);
    case 'b':
      return v ? 'true' : 'false';
    case 's': case 'o': case 'g':
      return JSON.stringify(String(v));
    case 'h':
      return String(v);
    case 'v': {
      const inner = v as TypedValue;
      return encodeValue(inner.signature, inner.value);
    }
    case '(': {
      const types = memberTypes(sig);
      const arr = v as unknown[];
      return '[' + types.map((t, i) => encodeValue(t, arr[i])).join(',') + ']';
    }
    case 'a':
      return encodeArray(sig, v);
    default:
      throw new Error(`unsupported D-Bus type '${sig}'`);
  }
}

function encodeArray(sig: string, v: unknown): string {
  const elem = firstType(sig.slice(1))[0];
  if (elem[0] === '{') {
    const [, valueType] = memberTypes(elem);
    const obj = v instanceof Map ? Object.fromEntries(v) : (v as Record<string, unknown>);
    const keys = Object.keys(obj).sort(byCodePoint);
    if (keys.length === 0) return 'null'; // an empty dict is an empty array too (J1)
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + encodeValue(valueType, obj[k])).join(',') + '}';
  }
  const arr = v as ArrayLike<unknown>;
  if (!arr || arr.length === 0) return 'null'; // every empty array is "invalid" (J1)
  let out = '[';
  for (let i = 0; i < arr.length; i++) out += (i ? ',' : '') + encodeValue(elem, arr[i]);
  return out + ']';
}

// nlohmann::json keeps object keys in a std::map: ordered by bytes, which for the
// UTF-16 code units of ASCII keys is the same as plain string comparison.
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The two settings whose string values dbus-flashmq never publishes in clear (J4). */
export function isMaskedSetting(serviceType: string, path: string): boolean {
  return serviceType === 'settings' &&
    (path === '/Settings/Ble/Service/Pincode' || path === '/Settings/Services/AccessPointPassword');
}

export const MASK_TEXT = '"******"';

/** The full notification payload of an item. */
export function encodePayload(value: TypedValue, min?: TypedValue, max?: TypedValue, masked = false): string {
  const valueText = masked && value.signature === 's' ? MASK_TEXT : encodeValue(value.signature, value.value);
  let out = '{';
  if (max) out += '"max":' + encodeValue(max.signature, max.value) + ',';
  if (min) out += '"min":' + encodeValue(min.signature, min.value) + ',';
  return out + '"value":' + valueText + '}';
}

/** A plain JS form of a D-Bus value for Node-RED messages (invalid → null, int64 → number or bigint). */
export function toPlain(sig: string, v: unknown): unknown {
  switch (sig[0]) {
    case 'x': case 't': {
      const b = v as bigint;
      return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
    }
    case 'd':
      return Number.isFinite(v as number) ? v : null;
    case 'v': {
      const inner = v as TypedValue;
      return toPlain(inner.signature, inner.value);
    }
    case '(': {
      const types = memberTypes(sig);
      return types.map((t, i) => toPlain(t, (v as unknown[])[i]));
    }
    case 'a': {
      const elem = firstType(sig.slice(1))[0];
      if (elem[0] === '{') {
        const [, vt] = memberTypes(elem);
        const obj = v instanceof Map ? Object.fromEntries(v) : (v as Record<string, unknown>);
        const keys = Object.keys(obj);
        if (keys.length === 0) return null;
        const out: Record<string, unknown> = {};
        for (const k of keys.sort(byCodePoint)) out[k] = toPlain(vt, obj[k]);
        return out;
      }
      const arr = v as ArrayLike<unknown>;
      if (!arr || arr.length === 0) return null;
      return Array.from(arr, (e) => toPlain(elem, e));
    }
    default:
      return v;
  }
}
