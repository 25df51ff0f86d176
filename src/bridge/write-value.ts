// Choosing the D-Bus type of a written value (spec W4). Where the item's current D-Bus type
// is known we convert to it, refusing anything that would lose information (the field bugs
// node-red-contrib-victron #98 and #158 came from guessing); otherwise we type the JSON
// literal exactly as dbus-flashmq does: 1 → int32, beyond int32 → int64, 1.0 → double, …
// Lossless across kinds, as dbus-flashmq's clients expect of settings: a string that is exactly
// a JSON number (`"30"`, `"-2.5"`, `"1e3"`; no spaces, `+`, hex, `NaN` or empty string) goes to
// a numeric item as that number, and a number goes to a string item as its JSON text.
import { JsonLiteral, NOT_A_NUMBER, numberLiteral } from './json-literal';
import { firstType, INT_RANGES, INVALID, isIntegerSignature, TypedValue } from './typed-value';

export class WriteTypeError extends Error {
  /** the reason alone, without the value and the type */
  reason = '';
}

/** Converts a parsed JSON value to a D-Bus value, of type `targetSig` when given. */
export function toDbusValue(lit: JsonLiteral, targetSig?: string): TypedValue {
  if (lit.kind === 'null') return INVALID;
  if (targetSig) return { signature: targetSig, value: convertTo(lit, targetSig) };
  return fromLiteral(lit);
}

function describe(l: JsonLiteral): string {
  switch (l.kind) {
    case 'int': return `integer ${l.value}`;
    case 'float': return `number ${l.text ?? l.value}`;
    case 'string': return `string ${JSON.stringify(l.value.length > 40 ? l.value.slice(0, 40) + '…' : l.value)}`;
    case 'bool': return `boolean ${l.value}`;
    case 'null': return 'null';
    case 'array': return 'array';
    case 'object': return 'object';
  }
}

const TYPE_NAMES: Record<string, string> = {
  y: 'byte', n: 'int16', q: 'uint16', i: 'int32', u: 'uint32', x: 'int64', t: 'uint64',
  d: 'double', b: 'boolean', s: 'string',
};

export function typeName(sig: string): string {
  return TYPE_NAMES[sig] ?? `D-Bus type '${sig}'`;
}

/** 'an int32', 'a double' */
export function withArticle(word: string): string {
  return (/^[aeiou]/.test(word) ? 'an ' : 'a ') + word;
}

function convertTo(lit: JsonLiteral, sig: string): unknown {
  const refuse = (why = ''): never => {
    const e = new WriteTypeError(`cannot write ${describe(lit)} to ${withArticle(typeName(sig))} item${why ? ': ' + why : ''}`);
    e.reason = why;
    throw e;
  };
  if (lit.kind === 'string' && (isIntegerSignature(sig) || sig === 'd')) {
    const n = numberLiteral(lit.value);
    if (typeof n === 'string') {
      return refuse(n === NOT_A_NUMBER ? 'it is not exactly a number (a JSON number: no spaces, no +, no hex, not empty)' : n);
    }
    try {
      return convertTo(n, sig);
    } catch (e) {
      if (e instanceof WriteTypeError) refuse(e.reason); // said of the string as given
      throw e;
    }
  }
  if (isIntegerSignature(sig)) {
    let n: bigint;
    if (lit.kind === 'int') n = lit.value;
    else if (lit.kind === 'float' && Number.isInteger(lit.value)) n = BigInt(lit.value);
    else if (lit.kind === 'bool') n = lit.value ? 1n : 0n;
    else return refuse(lit.kind === 'float' ? 'it has a fraction' : 'not a number');
    const [lo, hi] = INT_RANGES[sig];
    if (n < lo || n > hi) refuse(`outside ${lo}…${hi}`);
    return sig === 'x' || sig === 't' ? n : Number(n);
  }
  switch (sig) {
    case 'd': {
      if (lit.kind === 'float') {
        if (lit.value === 0 && lit.text !== undefined && /[1-9]/.test(lit.text.replace(/[eE].*$/, ''))) {
          refuse('too small for a double (it would be written as 0)');
        }
        return lit.value;
      }
      if (lit.kind === 'int') {
        const d = Number(lit.value);
        if (BigInt(d) !== lit.value) refuse('a double cannot hold it exactly');
        return d;
      }
      return refuse('not a number');
    }
    case 'b':
      if (lit.kind === 'bool') return lit.value;
      if (lit.kind === 'int' && (lit.value === 0n || lit.value === 1n)) return lit.value === 1n;
      return refuse();
    case 's':
      if (lit.kind === 'string') return lit.value;
      if (lit.kind === 'int' || lit.kind === 'float') return lit.text ?? String(lit.value);
      return refuse('not a string or a number');
    case 'v':
      return fromLiteral(lit);
  }
  if (sig[0] === 'a' && sig[1] !== '{') {
    if (lit.kind !== 'array') return refuse();
    const elem = firstType(sig.slice(1))[0];
    return lit.items.map((item) => {
      if (item.kind === 'null') refuse('arrays cannot hold null');
      return convertTo(item, elem);
    });
  }
  return refuse('this type cannot be written from JSON');
}

function fromLiteral(lit: JsonLiteral): TypedValue {
  switch (lit.kind) {
    case 'null':
      return INVALID;
    case 'bool':
      return { signature: 'b', value: lit.value };
    case 'string':
      return { signature: 's', value: lit.value };
    case 'float':
      return { signature: 'd', value: lit.value };
    case 'int': {
      const sig = intSignature(lit.value);
      if (!sig) throw new WriteTypeError(`integer ${lit.value} does not fit in 64 bits`);
      return { signature: sig, value: sig === 'x' ? lit.value : Number(lit.value) };
    }
    case 'object':
      throw new WriteTypeError('unsupported JSON value type: object (write a number, string, boolean, array or null)');
    case 'array': {
      if (lit.items.length === 0) return { signature: 'au', value: [] };
      const sig = arraySignature(lit);
      return { signature: sig, value: convertTo(lit, sig) };
    }
  }
}

function intSignature(v: bigint): 'i' | 'x' | undefined {
  if (v >= INT_RANGES.i[0] && v <= INT_RANGES.i[1]) return 'i';
  if (v >= INT_RANGES.x[0] && v <= INT_RANGES.x[1]) return 'x';
  return undefined;
}

/** Arrays are typed by their elements; mixed types are refused (F), except ints among doubles. */
function arraySignature(lit: Extract<JsonLiteral, { kind: 'array' }>): string {
  const kinds = new Set(lit.items.map((i) => i.kind));
  if (kinds.has('null')) throw new WriteTypeError('arrays cannot hold null');
  if (kinds.has('object')) throw new WriteTypeError('unsupported JSON value type: object inside an array');
  if (kinds.size === 2 && kinds.has('int') && kinds.has('float')) return 'ad';
  if (kinds.size !== 1) throw new WriteTypeError("D-Bus doesn't support arrays of mixed type");
  const first = lit.items[0];
  switch (first.kind) {
    case 'int': {
      const wide = lit.items.some((i) => i.kind === 'int' && intSignature(i.value) !== 'i');
      return wide ? 'ax' : 'ai';
    }
    case 'float': return 'ad';
    case 'bool': return 'ab';
    case 'string': return 'as';
    case 'array': {
      const inner = lit.items.map((i) => toDbusValue(i).signature);
      if (new Set(inner).size !== 1) throw new WriteTypeError("D-Bus doesn't support arrays of mixed type");
      return 'a' + inner[0];
    }
    default:
      throw new WriteTypeError('unsupported array');
  }
}
