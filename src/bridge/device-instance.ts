// The instance part of a service's topics (spec I2), worked out once per scan (I5).
import { isInvalid, isIntegerSignature, TypedValue } from './typed-value';

/**
 * `/DeviceInstance` as an integer; else `/Identifier` as text; else 0. One deliberate
 * improvement over dbus-flashmq: a numeric string "24" gives 24, not 0
 * (freakent/dbus-mqtt-devices#55).
 */
export function deviceInstance(get: (path: string) => TypedValue | undefined): string {
  const di = get('/DeviceInstance');
  if (di && !isInvalid(di)) {
    const v = di.value;
    if (isIntegerSignature(di.signature)) return String(v);
    if (di.signature === 'd') return Number.isFinite(v as number) ? String(Math.trunc(v as number)) : '0';
    if (di.signature === 'b') return v ? '1' : '0';
    if (di.signature === 's' && /^\s*-?\d+\s*$/.test(v as string)) return String(parseInt(v as string, 10));
    if (di.signature === 'v') return deviceInstance((p) => (p === '/DeviceInstance' ? (v as TypedValue) : undefined));
    return '0';
  }
  if (di) return '0';
  const id = get('/Identifier');
  if (id && !isInvalid(id)) {
    const text = String(id.value);
    if (text !== '' && !text.includes('/')) return text;
  }
  return '0';
}
