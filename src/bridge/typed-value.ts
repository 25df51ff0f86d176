// A D-Bus value together with its type signature. Structurally the same as dbus-next's
// Variant ({signature, value}), so the D-Bus layer passes its variants straight through,
// but the bridge core never imports dbus-next.

export interface TypedValue {
  /** One complete D-Bus type signature: 'i', 'd', 's', 'ai', 'a{sv}', 'v', … */
  signature: string;
  /** The JS form dbus-next uses: number, bigint (x, t), boolean, string, Buffer (ay), array, object (dicts), TypedValue (v). */
  value: unknown;
}

/** velib's VEDBUS_INVALID: an empty int32 array. */
export const INVALID: TypedValue = Object.freeze({ signature: 'ai', value: [] as unknown[] }) as TypedValue;

/** Every empty array (of any element type) counts as invalid (spec J1). */
export function isInvalid(v: TypedValue | undefined): boolean {
  if (!v) return true;
  if (v.signature[0] !== 'a') return false;
  const x = v.value as { length?: number } | null;
  if (x == null) return true;
  if (typeof x.length === 'number') return x.length === 0;
  return typeof x === 'object' && Object.keys(x).length === 0;
}

/** Splits off the first complete type of a signature: 'a{sv}i' → ['a{sv}', 'i']. */
export function firstType(sig: string): [string, string] {
  const end = completeTypeEnd(sig, 0);
  return [sig.slice(0, end), sig.slice(end)];
}

function completeTypeEnd(sig: string, i: number): number {
  const c = sig[i];
  if (c === undefined) throw new Error(`truncated D-Bus signature '${sig}'`);
  if (c === 'a') return completeTypeEnd(sig, i + 1);
  if (c === '(' || c === '{') {
    const close = c === '(' ? ')' : '}';
    let j = i + 1;
    while (sig[j] !== close) {
      if (j >= sig.length) throw new Error(`unbalanced D-Bus signature '${sig}'`);
      j = completeTypeEnd(sig, j);
    }
    return j + 1;
  }
  return i + 1;
}

/** The member types of a struct or dict-entry signature body: '{sv}' → ['s', 'v']. */
export function memberTypes(sig: string): string[] {
  const inner = sig.slice(1, -1);
  const out: string[] = [];
  let rest = inner;
  while (rest.length) {
    const [t, r] = firstType(rest);
    out.push(t);
    rest = r;
  }
  return out;
}

export const INT_RANGES: Record<string, [bigint, bigint]> = {
  y: [0n, 255n],
  n: [-32768n, 32767n],
  q: [0n, 65535n],
  i: [-2147483648n, 2147483647n],
  u: [0n, 4294967295n],
  x: [-9223372036854775808n, 9223372036854775807n],
  t: [0n, 18446744073709551615n],
};

export function isIntegerSignature(sig: string): boolean {
  return sig.length === 1 && sig in INT_RANGES;
}
