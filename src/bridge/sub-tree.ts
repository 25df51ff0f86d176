// GetValue replies: the variant around a value, and sub-trees (a dict of relative path →
// value that velib answers on `/` and every intermediate path; spec D7, R3).
import { TypedValue } from './typed-value';

/** A variant inside a variant (some services answer so) is unwrapped to the value. */
export function unwrapVariant(v: TypedValue): TypedValue {
  let cur = v;
  while (cur && cur.signature === 'v') cur = cur.value as TypedValue;
  return cur;
}

/** The entries of a sub-tree reply, values unwrapped, or undefined when it is not a dict. */
export function subTreeEntries(reply: TypedValue): Array<[string, TypedValue]> | undefined {
  const v = unwrapVariant(reply);
  if (!v || !v.signature.startsWith('a{s')) return undefined;
  const valueType = v.signature.slice(3, -1);
  const obj = v.value as Record<string, unknown>;
  return Object.keys(obj).map((k) => [k, unwrapVariant(valueType === 'v' ? (obj[k] as TypedValue) : { signature: valueType, value: obj[k] })]);
}

/** Joins a base path and a relative key, collapsing double slashes (D7). */
export function joinPath(base: string, rel: string): string {
  return ('/' + base + '/' + rel).replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
}
