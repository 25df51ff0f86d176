// A small JSON parser that keeps what JSON.parse forgets: whether a number was written as
// an integer (`1`) or with a fraction or exponent (`1.0`, `1e3`), the exact digits of big
// integers, and each number's text. dbus-flashmq types written values by their literal (spec
// W4, Appendix A.1). Stricter than JSON.parse where a payload would be ambiguous or could not
// be Unicode: a key twice in one object, a lone surrogate (`"\ud800"`), a number beyond the
// double range (`1e400`) are syntax errors here, the last two as in nlohmann::json (dbus-flashmq).
import { loneSurrogateAt } from './utf8';

export type JsonLiteral =
  | { kind: 'int'; value: bigint; text?: string }
  | { kind: 'float'; value: number; text?: string }
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'null' }
  | { kind: 'array'; items: JsonLiteral[] }
  | { kind: 'object'; entries: Map<string, JsonLiteral> };

export class JsonSyntaxError extends Error {}

const MAX_DEPTH = 64;
/** longer number literals are refused (BigInt and Number would only burn time on them) */
export const MAX_NUMBER_CHARS = 400;
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

export const NOT_A_NUMBER = 'not a JSON number';

/** A number literal (the JSON grammar, nothing around it) as a typed literal, or a reason why not. */
export function numberLiteral(text: string): JsonLiteral | string {
  NUMBER.lastIndex = 0;
  const m = NUMBER.exec(text);
  if (!m || m[0].length !== text.length) return NOT_A_NUMBER;
  if (text.length > MAX_NUMBER_CHARS) return `a number longer than ${MAX_NUMBER_CHARS} characters`;
  if (m[1] === undefined && m[2] === undefined) return { kind: 'int', value: BigInt(text), text };
  const value = Number(text);
  if (!Number.isFinite(value)) return `${text} is beyond the range of a double`;
  return { kind: 'float', value, text };
}

export function parseJsonLiteral(text: string): JsonLiteral {
  let i = 0;
  const fail = (what: string): never => {
    throw new JsonSyntaxError(`invalid JSON: ${what} at offset ${i}`);
  };
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const parseString = (): string => {
    // text[i] === '"'; find the end honouring escapes, then let JSON.parse decode it.
    const start = i++;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        const s = JSON.parse(text.slice(start, i)) as string;
        const bad = loneSurrogateAt(s);
        if (bad >= 0) fail(`lone surrogate \\u${s.charCodeAt(bad).toString(16)} in a string (not Unicode text)`);
        return s;
      }
      if (c === 0x5c) i += 2;
      else if (c < 0x20) fail('control character in string');
      else i++;
    }
    return fail('unterminated string');
  };
  const parseValue = (depth: number): JsonLiteral => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const entries = new Map<string, JsonLiteral>();
      ws();
      if (text[i] === '}') { i++; return { kind: 'object', entries }; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const keyAt = i;
        const key = parseString();
        if (entries.has(key)) { i = keyAt; fail(`the key ${JSON.stringify(key)} is there twice (ambiguous)`); }
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        entries.set(key, parseValue(depth + 1));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return { kind: 'object', entries }; }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const items: JsonLiteral[] = [];
      ws();
      if (text[i] === ']') { i++; return { kind: 'array', items }; }
      for (;;) {
        items.push(parseValue(depth + 1));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return { kind: 'array', items }; }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return { kind: 'string', value: parseString() };
    if (text.startsWith('true', i)) { i += 4; return { kind: 'bool', value: true }; }
    if (text.startsWith('false', i)) { i += 5; return { kind: 'bool', value: false }; }
    if (text.startsWith('null', i)) { i += 4; return { kind: 'null' }; }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return fail('unexpected character');
    const lit = numberLiteral(m[0]);
    if (typeof lit === 'string') return fail(lit);
    i += m[0].length;
    return lit;
  };
  const v = parseValue(0);
  ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}

/** The literal as a plain JS value (int64 beyond 2^53 stays a bigint). */
export function literalToPlain(l: JsonLiteral): unknown {
  switch (l.kind) {
    case 'int':
      return l.value >= BigInt(Number.MIN_SAFE_INTEGER) && l.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(l.value) : l.value;
    case 'float': case 'string': case 'bool':
      return l.value;
    case 'null':
      return null;
    case 'array':
      return l.items.map(literalToPlain);
    case 'object':
      return Object.fromEntries([...l.entries].map(([k, v]) => [k, literalToPlain(v)]));
  }
}

/**
 * A JS value (from a flow message) as a literal: integral numbers count as integers, others as
 * doubles; the item's own type decides in the end (write-value.ts).
 */
export function literalFromJs(v: unknown, depth = 0): JsonLiteral {
  if (depth > MAX_DEPTH) throw new JsonSyntaxError(`nesting deeper than ${MAX_DEPTH}`);
  if (v === null) return { kind: 'null' };
  switch (typeof v) {
    case 'number':
      if (!Number.isFinite(v)) throw new JsonSyntaxError(`${v} is not a number D-Bus can carry`);
      return Number.isInteger(v) ? { kind: 'int', value: BigInt(v) } : { kind: 'float', value: v };
    case 'bigint':
      return { kind: 'int', value: v };
    case 'string':
      return { kind: 'string', value: v };
    case 'boolean':
      return { kind: 'bool', value: v };
    case 'object':
      if (Array.isArray(v)) return { kind: 'array', items: v.map((x) => literalFromJs(x, depth + 1)) };
      if (Buffer.isBuffer(v)) return { kind: 'array', items: [...v].map((b) => ({ kind: 'int', value: BigInt(b) }) as JsonLiteral) };
      return { kind: 'object', entries: new Map(Object.entries(v as object).map(([k, x]) => [k, literalFromJs(x, depth + 1)])) };
    default:
      throw new JsonSyntaxError(`a ${typeof v} cannot be written`);
  }
}
