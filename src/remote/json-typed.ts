// Values of a GX's notifications as D-Bus values, and written values back as JSON, both exactly
// as dbus-flashmq writes and reads them (spec J1–J4, W4). The JSON literal decides the type: an
// integer literal is int32 when it fits, else int64 (uint64 beyond that); a literal with a
// fraction or exponent is a double; so `1` and `1.0` stay apart and int64 stays exact, and the
// engine re-encodes every value to the very bytes the GX sent.
import { JsonLiteral } from '../bridge/json-literal';
import { encodeValue } from '../bridge/payload';
import { firstType, INT_RANGES, INVALID, isIntegerSignature, TypedValue } from '../bridge/typed-value';

/** A notification's JSON value as a D-Bus value; `null` is velib's INVALID (J1). */
export function typedFromLiteral(lit: JsonLiteral): TypedValue {
  switch (lit.kind) {
    case 'null':
      return INVALID;
    case 'bool':
      return { signature: 'b', value: lit.value };
    case 'string':
      return { signature: 's', value: lit.value };
    case 'float':
      return { signature: 'd', value: lit.value };
    case 'int':
      return typedInt(lit.value);
    case 'array':
      return typedArray(lit.items.map(typedFromLiteral));
    case 'object': {
      // a dict (a{sv}); every member keeps its own type
      const obj: Record<string, TypedValue> = {};
      for (const [k, v] of lit.entries) obj[k] = typedFromLiteral(v);
      return { signature: 'a{sv}', value: obj };
    }
  }
}

function typedInt(v: bigint): TypedValue {
  if (v >= INT_RANGES.i[0] && v <= INT_RANGES.i[1]) return { signature: 'i', value: Number(v) };
  if (v >= INT_RANGES.x[0] && v <= INT_RANGES.x[1]) return { signature: 'x', value: v };
  if (v >= INT_RANGES.t[0] && v <= INT_RANGES.t[1]) return { signature: 't', value: v };
  return { signature: 'd', value: Number(v) }; // beyond 64 bits: no D-Bus integer holds it
}

/**
 * Arrays are typed by their elements (F publishes only typed D-Bus arrays): all int32 → `ai`,
 * ints beyond int32 among them → `ax`, all the same other type → `a<type>` (nested arrays too,
 * a null inside a nested array is an empty one). Anything mixed (ints with doubles, values with
 * nulls) becomes `av`, each element keeping its own type, so that it is re-encoded as it came.
 */
function typedArray(elems: TypedValue[]): TypedValue {
  if (elems.length === 0) return INVALID; // F never sends [] (every empty array is null, J1)
  let sig = elems[0].signature;
  for (const e of elems) {
    if (e.signature === sig) continue;
    if (isIntPair(sig, e.signature)) sig = 'x';
    else return { signature: 'av', value: elems };
  }
  if (sig === 'x') return { signature: 'ax', value: elems.map((e) => BigInt(e.value as number | bigint)) };
  return { signature: 'a' + sig, value: elems.map((e) => e.value) };
}

function isIntPair(a: string, b: string): boolean {
  return (a === 'i' || a === 'x') && (b === 'i' || b === 'x');
}

export class WriteEncodeError extends Error {}

/**
 * A value to write as the JSON literal dbus-flashmq types it by (W4): doubles always with a
 * decimal point or an exponent (`230.0`), integers as digits, INVALID as `null`, other empty
 * arrays as `[]`. Refuses what JSON cannot carry (NaN, ±Infinity) and dicts (F refuses them).
 */
export function literalTextOf(v: TypedValue): string {
  const sig = v.signature;
  if (sig === 'v') return literalTextOf(v.value as TypedValue);
  if (sig === 'd') {
    if (!Number.isFinite(v.value as number)) throw new WriteEncodeError(`${v.value} cannot be written as JSON`);
    return encodeValue('d', v.value);
  }
  if (isIntegerSignature(sig) || sig === 'b' || sig === 's' || sig === 'o' || sig === 'g') return encodeValue(sig, v.value);
  if (sig[0] === 'a') {
    const elem = firstType(sig.slice(1))[0];
    if (elem[0] === '{') throw new WriteEncodeError('a dict cannot be written (dbus-flashmq refuses JSON objects)');
    const arr = Array.from(v.value as ArrayLike<unknown>);
    if (arr.length === 0) return sig === 'ai' ? 'null' : '[]';
    return '[' + arr.map((e) => literalTextOf(elem === 'v' ? (e as TypedValue) : { signature: elem, value: e })).join(',') + ']';
  }
  throw new WriteEncodeError(`a D-Bus '${sig}' value cannot be written over MQTT`);
}
