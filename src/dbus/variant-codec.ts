// Between the bridge's TypedValue and dbus-next's Variant. Incoming variants already have
// the {signature, value} shape; outgoing ones need real Variant instances at every 'v'.
import { Variant } from 'dbus-next';
import { firstType, memberTypes, TypedValue } from '../bridge/typed-value';

export function toVariant(v: TypedValue): Variant {
  return new Variant(v.signature, toWire(v.signature, v.value));
}

function toWire(sig: string, value: unknown): unknown {
  if (sig === 'v') {
    const inner = value as TypedValue;
    return inner instanceof Variant ? inner : toVariant(inner);
  }
  if (sig[0] === 'a') {
    const elem = firstType(sig.slice(1))[0];
    if (elem[0] === '{') {
      const [, vt] = memberTypes(elem);
      const obj = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(obj)) out[k] = toWire(vt, obj[k]);
      return out;
    }
    if (elem === 'y' && Buffer.isBuffer(value)) return value;
    return Array.from(value as ArrayLike<unknown>, (e) => toWire(elem, e));
  }
  if (sig[0] === '(') {
    const types = memberTypes(sig);
    return types.map((t, i) => toWire(t, (value as unknown[])[i]));
  }
  return value;
}
