// dbus-mqtt's payload text, for legacy mode (spec N3, N4, R9, J table, §12). dbus-mqtt builds
// `{"value": x}` with Python's json.dumps at its defaults: separators ", " and ": ", every
// character outside printable ASCII as a \uXXXX escape (ensure_ascii), doubles as Python's
// repr, NaN and ±Infinity written as `NaN`, `Infinity`, `-Infinity` (allow_nan: not valid JSON,
// but what its clients get), dict keys in the order D-Bus gave them, no min/max.
//
// Two forms of one value:
// - notifications ("unwrapped"): velib's unwrap_dbus_value first: booleans are true/false, an
//   empty array (any element type) is null, dicts stay dicts (an empty one is {}).
// - read replies ("raw"): dbus-python's types straight into json.dumps (R9): a D-Bus boolean is
//   an int subclass there, so 1/0; an empty array stays [].
import { MASK_TEXT } from './payload';
import { scientific, shortestDigits } from './shortest-digits';
import { firstType, memberTypes, TypedValue } from './typed-value';

export type LegacyForm = 'unwrapped' | 'raw';

/** Python's repr() of a float (PyOS_double_to_string, mode 'r'), and json.dumps' NaN/Infinity. */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const { neg, digits, point: decpt } = shortestDigits(x); // the same digits as Python's repr
  const k = digits.length;
  let out: string;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) out = '0.' + '0'.repeat(-decpt) + digits;
    else if (k <= decpt) out = digits + '0'.repeat(decpt - k) + '.0';
    else out = digits.slice(0, decpt) + '.' + digits.slice(decpt);
  } else {
    out = scientific(digits, decpt - 1);
  }
  return neg ? '-' + out : out;
}

const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const SHORT_ESCAPES: Record<number, string> = { 0x22: '\\"', 0x5c: '\\\\', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x08: '\\b', 0x0c: '\\f' };

/** A JSON string as json.dumps(ensure_ascii=True) writes it: `"\u00b0C"`, lower-case hex. */
export function pythonString(s: string): string {
  if (PLAIN_ASCII.test(s)) return '"' + s + '"';
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const short = SHORT_ESCAPES[c];
    if (short) out += short;
    else if (c < 0x20 || c > 0x7e) out += '\\u' + c.toString(16).padStart(4, '0'); // UTF-16 units = Python's surrogate pairs
    else out += s[i];
  }
  return out + '"';
}

/** The JSON text of one D-Bus value of the given complete signature. */
export function legacyValue(sig: string, v: unknown, form: LegacyForm): string {
  switch (sig[0]) {
    case 'd':
      return pythonFloat(v as number);
    case 'y': case 'n': case 'q': case 'i': case 'u': case 'x': case 't': case 'h':
      return String(v);
    case 'b':
      if (form === 'raw') return v ? '1' : '0'; // dbus.Boolean is an int to json.dumps (R9)
      return v ? 'true' : 'false';
    case 's': case 'o': case 'g':
      return pythonString(String(v));
    case 'v': {
      const inner = v as TypedValue;
      return legacyValue(inner.signature, inner.value, form);
    }
    case '(': {
      const types = memberTypes(sig);
      const arr = v as unknown[];
      return '[' + types.map((t, i) => legacyValue(t, arr[i], form)).join(', ') + ']';
    }
    case 'a':
      return legacyArray(sig, v, form);
    default:
      throw new Error(`unsupported D-Bus type '${sig}'`);
  }
}

function legacyArray(sig: string, v: unknown, form: LegacyForm): string {
  const elem = firstType(sig.slice(1))[0];
  if (elem[0] === '{') {
    // a dbus.Dictionary is no dbus.Array: unwrap_dbus_value keeps an empty one as {}
    const [keyType, valueType] = memberTypes(elem);
    const entries: Array<[string, unknown]> = v instanceof Map ? [...v] : Object.entries(v as Record<string, unknown>);
    return '{' + entries.map(([k, x]) => pythonKey(keyType, k) + ': ' + legacyValue(valueType, x, form)).join(', ') + '}';
  }
  const arr = v as ArrayLike<unknown> | null;
  const n = arr ? arr.length : 0;
  if (n === 0) return form === 'raw' ? '[]' : 'null'; // J1; raw: R9 `[]`
  let out = '[';
  for (let i = 0; i < n; i++) out += (i ? ', ' : '') + legacyValue(elem, arr![i], form);
  return out + ']';
}

/** A dict key as json.dumps writes it: strings escaped, numbers as their text (keys are never unwrapped). */
function pythonKey(keyType: string, k: unknown): string {
  switch (keyType) {
    case 'd':
      return pythonString(pythonFloat(Number(k)));
    case 'b': // dbus.Boolean is an int subclass, not True/False
      return k === true || k === 'true' || k === 1 || k === '1' ? '"1"' : '"0"';
    default:
      return pythonString(String(k));
  }
}

/** `{"value": …}` as dbus-mqtt publishes it (N3); masked settings keep our `"******"` (J4). */
export function legacyPayload(value: TypedValue, form: LegacyForm, masked = false): string {
  const text = masked && value.signature === 's' ? MASK_TEXT : legacyValue(value.signature, value.value, form);
  return '{"value": ' + text + '}';
}
