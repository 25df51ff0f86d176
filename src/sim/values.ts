// D-Bus values as the simulator keeps them: always a dbus-next Variant (signature + JS value),
// in the JS shapes dbus-next marshals and unmarshals:
//   y n q i u d  → number          x t → bigint          b → boolean        s o g → string
//   ay           → Buffer          aX  → array            a{sX} → plain object   v → Variant
// Victron's "invalid" value is an empty array of int32 (`ai`, velib VEDBUS_INVALID).
//
// This file also holds the coercion velib's VeDbusItemExport applies in SetValue when an item
// has a fixed type, and the GetText formatting.
import { Variant } from 'dbus-next';

export { Variant };

export const INVALID_SIGNATURE = 'ai';

/** A fresh invalid value (empty `ai`). */
export function invalid(): Variant {
  return new Variant(INVALID_SIGNATURE, []);
}

const INT_RANGES: Record<string, [bigint, bigint]> = {
  y: [0n, 255n],
  n: [-32768n, 32767n],
  q: [0n, 65535n],
  i: [-2147483648n, 2147483647n],
  u: [0n, 4294967295n],
  x: [-9223372036854775808n, 9223372036854775807n],
  t: [0n, 18446744073709551615n],
};

export function isIntSignature(sig: string): boolean {
  return sig.length === 1 && sig in INT_RANGES;
}

function isStringSignature(sig: string): boolean {
  return sig === 's' || sig === 'o' || sig === 'g';
}

export function isVariant(v: unknown): v is Variant {
  return v instanceof Variant ||
    (typeof v === 'object' && v !== null && typeof (v as Variant).signature === 'string' && 'value' in v &&
      Object.keys(v).length === 2);
}

/** True for an empty array of any element type (not an empty dict): the "invalid" value. */
export function isEmptyArray(v: Variant): boolean {
  if (!v.signature.startsWith('a') || v.signature.startsWith('a{')) return false;
  const val = v.value as unknown;
  if (Buffer.isBuffer(val)) return val.length === 0;
  return Array.isArray(val) && val.length === 0;
}

export function isInvalid(v: Variant): boolean {
  return isEmptyArray(v);
}

/** Splits a signature list into complete single types: 'a{sv}i' → ['a{sv}', 'i']. */
export function splitSignature(sig: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < sig.length) {
    const start = i;
    i = endOfType(sig, i);
    out.push(sig.slice(start, i));
  }
  return out;
}

function endOfType(sig: string, i: number): number {
  const c = sig[i];
  if (c === undefined) throw new Error(`incomplete signature '${sig}'`);
  if (c === 'a') return endOfType(sig, i + 1);
  if (c === '(' || c === '{') {
    const close = c === '(' ? ')' : '}';
    let j = i + 1;
    while (sig[j] !== close) {
      if (j >= sig.length) throw new Error(`unbalanced signature '${sig}'`);
      j = endOfType(sig, j);
    }
    return j + 1;
  }
  if ('ybnqiuxtdsogvh'.includes(c)) return i + 1;
  throw new Error(`unsupported signature character '${c}' in '${sig}'`);
}

/** Checks that `sig` is exactly one complete type we can handle. */
export function assertSingleType(sig: string): void {
  const parts = splitSignature(sig);
  if (parts.length !== 1) throw new Error(`'${sig}' is not a single D-Bus type`);
}

/** The element type of an array signature 'aX' → 'X'; for dicts 'a{kv}' → ['k','v']. */
function dictTypes(sig: string): [string, string] | undefined {
  if (!sig.startsWith('a{')) return undefined;
  const inner = sig.slice(2, -1);
  const parts = splitSignature(inner);
  if (parts.length !== 2) throw new Error(`bad dict signature '${sig}'`);
  return [parts[0], parts[1]];
}

/** Thrown by fromJs when a value can't be represented in the requested type. */
export class CoercionError extends Error {}

function toBigIntIntegral(value: unknown, allowString: boolean): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'boolean') return value ? 1n : 0n; // Python: bool is an int
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || !Number.isInteger(value)) throw new CoercionError(`${value} is not integral`);
    return BigInt(value);
  }
  if (allowString && typeof value === 'string' && /^-?\d+$/.test(value.trim())) return BigInt(value.trim());
  throw new CoercionError(`${typeof value} is not a number`);
}

/**
 * Converts a JS value to the D-Bus type `sig`. Integer types accept integral numbers, bigints,
 * booleans (0/1); doubles accept any finite number; strings only strings; arrays element by
 * element; `ay` a Buffer/Uint8Array/number list. `allowNumericStrings` lets scenario files give
 * 64-bit integers as decimal strings. Throws CoercionError when it can't be done.
 */
export function fromJs(value: unknown, sig: string, allowNumericStrings = false): unknown {
  if (isVariant(value) && sig !== 'v') {
    return fromJs(value.value, sig, allowNumericStrings);
  }
  if (value === null || value === undefined) throw new CoercionError('no value');
  if (isIntSignature(sig)) {
    const b = toBigIntIntegral(value, allowNumericStrings);
    const [lo, hi] = INT_RANGES[sig];
    if (b < lo || b > hi) throw new CoercionError(`${b} is out of range for '${sig}'`);
    return sig === 'x' || sig === 't' ? b : Number(b);
  }
  switch (sig) {
    case 'd': {
      let n: number;
      if (typeof value === 'number') n = value;
      else if (typeof value === 'bigint') n = Number(value);
      else if (typeof value === 'boolean') n = value ? 1 : 0;
      else throw new CoercionError(`${typeof value} is not a number`);
      if (!Number.isFinite(n)) throw new CoercionError(`${n} can't be sent as a D-Bus double`);
      return n;
    }
    case 'b':
      if (typeof value === 'boolean') return value;
      if ((typeof value === 'number' || typeof value === 'bigint') && (value == 0 || value == 1)) return value == 1;
      throw new CoercionError(`${String(value)} is not a boolean`);
    case 's': case 'o': case 'g':
      if (typeof value !== 'string') throw new CoercionError(`${typeof value} is not a string`);
      if (value.includes('\0')) throw new CoercionError('string contains a NUL character');
      return value;
    case 'v':
      return isVariant(value) ? normalizeVariant(value) : inferVariant(value);
  }
  if (sig === 'ay') {
    if (Buffer.isBuffer(value)) return Buffer.from(value);
    if (value instanceof Uint8Array) return Buffer.from(value);
    if (Array.isArray(value)) return Buffer.from(value.map((e) => fromJs(e, 'y', allowNumericStrings) as number));
    throw new CoercionError('not a byte array');
  }
  const dt = dictTypes(sig);
  if (dt) {
    if (typeof value !== 'object' || Array.isArray(value) || Buffer.isBuffer(value)) throw new CoercionError('not a dict');
    if (dt[0] !== 's') throw new CoercionError(`dicts with '${dt[0]}' keys are not supported`);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = fromJs(v, dt[1], allowNumericStrings);
    return out;
  }
  if (sig.startsWith('a')) {
    const el = sig.slice(1);
    const list: unknown[] = Buffer.isBuffer(value) ? [...value] : (value as unknown[]);
    if (!Array.isArray(list)) throw new CoercionError('not an array');
    return list.map((e) => fromJs(e, el, allowNumericStrings));
  }
  throw new CoercionError(`type '${sig}' is not supported`);
}

/** Picks a D-Bus type for a plain JS value: integers → i (x if too big), others → d, etc. */
export function inferSignature(value: unknown): string {
  if (isVariant(value)) return value.signature;
  switch (typeof value) {
    case 'boolean': return 'b';
    case 'string': return 's';
    case 'bigint': return value < 0n ? 'x' : value > 9223372036854775807n ? 't' : 'x';
    case 'number':
      if (Number.isInteger(value)) {
        if (value >= -2147483648 && value <= 2147483647) return 'i';
        if (Number.isSafeInteger(value)) return 'x';
      }
      return 'd';
  }
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return 'ay';
  if (Array.isArray(value)) {
    if (value.length === 0) return INVALID_SIGNATURE;
    const sigs = new Set(value.map(inferSignature));
    if (sigs.size === 1) return `a${[...sigs][0]}`;
    if ([...sigs].every((s) => s === 'i' || s === 'd' || s === 'x')) return 'ad';
    return 'av';
  }
  if (typeof value === 'object' && value !== null) return 'a{sv}';
  throw new CoercionError(`can't pick a D-Bus type for ${String(value)}`);
}

/** Plain JS value (or Variant) → Variant. null/undefined → invalid. */
export function inferVariant(value: unknown): Variant {
  if (value === null || value === undefined) return invalid();
  if (isVariant(value)) return normalizeVariant(value);
  const sig = inferSignature(value);
  return new Variant(sig, fromJs(value, sig));
}

/** Makes a Variant's value the shape dbus-next marshals (checks it, copies buffers/arrays). */
export function normalizeVariant(v: Variant): Variant {
  assertSingleType(v.signature);
  if (isEmptyArray(v)) return new Variant(v.signature, v.signature === 'ay' ? Buffer.alloc(0) : []);
  return new Variant(v.signature, fromJs(v.value, v.signature, true));
}

/**
 * velib SetValue coercion: the incoming variant converted to the item's fixed type `sig`, or
 * undefined when velib would answer 1 (can't convert / out of range). Strings only go to string
 * items and nothing else goes to a string item. An empty array is always the invalid value.
 */
export function coerceForSet(incoming: Variant, sig: string | undefined): Variant | undefined {
  if (isEmptyArray(incoming)) return invalid();
  if (sig === undefined) {
    try { return normalizeVariant(incoming); } catch { return undefined; }
  }
  const src = incoming.signature;
  if (isStringSignature(sig) !== isStringSignature(src)) return undefined;
  if (sig.startsWith('a') !== src.startsWith('a')) return undefined;
  try {
    return new Variant(sig, fromJs(incoming.value, sig));
  } catch (e) {
    if (e instanceof CoercionError) return undefined;
    throw e;
  }
}

/** Value equality as velib's `newvalue == self._value` (Python ==: 1 == 1.0). */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (isVariant(a)) {
    if (isVariant(b)) {
      if (isEmptyArray(a) || isEmptyArray(b)) return isEmptyArray(a) && isEmptyArray(b);
      return valuesEqual(a.value, b.value);
    }
    return valuesEqual(a.value, b);
  }
  if (isVariant(b)) return valuesEqual(a, b.value);
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    return a == b;
  }
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) {
    const la = Buffer.isBuffer(a) ? [...a] : a;
    const lb = Buffer.isBuffer(b) ? [...b] : b;
    return valuesEqual(la, lb);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((e, i) => valuesEqual(e, b[i]));
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => k in b && valuesEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

/** Python's repr of a float, which velib's default GetText (str(value)) shows. */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const abs = Math.abs(x);
  if (x !== 0 && (abs >= 1e16 || abs < 1e-4)) {
    return x.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  }
  const s = String(x);
  return Number.isInteger(x) ? `${s}.0` : s;
}

/** velib's default text: str() of the unwrapped Python value. Invalid → '---'. */
export function defaultText(v: Variant): string {
  if (isEmptyArray(v)) return '---';
  return pyStr(v.value, v.signature);
}

function pyStr(value: unknown, sig: string): string {
  if (isVariant(value)) return pyStr(value.value, value.signature);
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return sig === 'd' ? pythonFloat(value) : String(value);
  const el = sig.startsWith('a') ? sig.slice(1) : 'v';
  if (Buffer.isBuffer(value)) return `[${[...value].join(', ')}]`;
  if (Array.isArray(value)) return `[${value.map((e) => pyRepr(e, el)).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    const dt = dictTypes(sig);
    return `{${Object.entries(value).map(([k, e]) => `'${k}': ${pyRepr(e, dt ? dt[1] : 'v')}`).join(', ')}}`;
  }
  return String(value);
}

function pyRepr(value: unknown, sig: string): string {
  if (typeof value === 'string') return `'${value}'`;
  if (isVariant(value)) return pyRepr(value.value, value.signature);
  return pyStr(value, sig);
}

/**
 * How a service formats its text, learned from one (value, text) example of a recording:
 * `56.98V` for 56.9799995 → 2 decimals + "V"; `0x204` for 516 → hex; anything else → str().
 */
export type TextFormat =
  | { kind: 'fixed'; decimals?: number; unit: string }
  | { kind: 'hex'; upper: boolean; unit: string }
  | { kind: 'default' };

export function inferTextFormat(v: Variant, text: string): TextFormat | undefined {
  if (isEmptyArray(v)) return undefined;
  const num = typeof v.value === 'number' ? v.value : typeof v.value === 'bigint' ? Number(v.value) : undefined;
  if (num === undefined || text === '') return undefined;
  if (text === defaultText(v)) return { kind: 'default' };
  const hex = /^0x([0-9A-Fa-f]+)(.*)$/.exec(text);
  if (hex && Number.isInteger(num) && parseInt(hex[1], 16) === num) {
    return { kind: 'hex', upper: !/[a-f]/.test(hex[1]), unit: hex[2] };
  }
  const m = /^(-?\d+)(?:\.(\d+))?(.*)$/.exec(text);
  if (m) {
    const decimals = m[2] ? m[2].length : 0;
    const shown = parseFloat(`${m[1]}${m[2] ? `.${m[2]}` : ''}`);
    const tol = 0.5 * 10 ** -decimals + 1e-9 * Math.max(1, Math.abs(num));
    if (Math.abs(shown - num) <= tol && !/^\d/.test(m[3])) return { kind: 'fixed', decimals, unit: m[3] };
  }
  return undefined;
}

export function formatText(v: Variant, fmt: TextFormat | undefined): string {
  if (isEmptyArray(v)) return '---';
  const num = typeof v.value === 'number' ? v.value : typeof v.value === 'bigint' ? Number(v.value) : undefined;
  if (!fmt || fmt.kind === 'default' || num === undefined) return defaultText(v);
  if (fmt.kind === 'hex' && Number.isInteger(num)) {
    const h = Math.trunc(num).toString(16);
    return `0x${fmt.upper ? h.toUpperCase() : h}${fmt.unit}`;
  }
  if (fmt.kind === 'fixed') {
    return `${fmt.decimals === undefined ? defaultText(v) : num.toFixed(fmt.decimals)}${fmt.unit}`;
  }
  return defaultText(v);
}

/** A variant as JSON-friendly data, for logs and error messages. */
export function describe(v: Variant): string {
  if (isEmptyArray(v)) return `${v.signature}:[] (invalid)`;
  return `${v.signature}:${defaultText(v)}`;
}
