// The item's advertised range (GetItems / ItemsChanged `Min` and `Max`, spec D6, D10, N2)
// applied to a write before it reaches D-Bus. dbus-flashmq and dbus-mqtt pass out-of-range
// values on and leave the check to the service; services differ (localsettings skips a min of
// 0, many drivers check nothing), so we refuse them here: Hub4Mode 7 with max 3 never leaves.
import { encodeValue } from './payload';
import { isInvalid, isIntegerSignature, TypedValue } from './typed-value';

type Num = number | bigint;

/** A bound as a number, or undefined when it is not one (invalid, NaN, a string …). */
function numericBound(b: TypedValue | undefined): Num | undefined {
  if (!b || isInvalid(b)) return undefined;
  let v = b;
  while (v.signature === 'v') v = v.value as TypedValue;
  if (isIntegerSignature(v.signature)) return typeof v.value === 'bigint' ? v.value : Number(v.value);
  if (v.signature === 'd' && typeof v.value === 'number' && !Number.isNaN(v.value)) return v.value;
  return undefined;
}

/** Exact comparison of two numbers that may be doubles or 64-bit integers (no rounding). */
export function compareNumbers(a: Num, b: Num): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number') return -compareNumbers(b, a);
  const d = b as number; // a is a bigint
  if (d === Infinity) return -1;
  if (d === -Infinity) return 1;
  const floor = Math.floor(d);
  const f = BigInt(floor);
  if (a !== f) return a < f ? -1 : 1;
  return d > floor ? -1 : 0;
}

/**
 * Why a value is outside the item's min/max, or undefined when it is inside (or the item has no
 * usable range). Only numbers are checked; null (invalid) and other types pass.
 */
export function rangeProblem(value: TypedValue, min: TypedValue | undefined, max: TypedValue | undefined): string | undefined {
  const numeric = isIntegerSignature(value.signature) || value.signature === 'd';
  if (!numeric || (min === undefined && max === undefined)) return undefined;
  const v = value.value as Num;
  if (typeof v === 'number' && Number.isNaN(v)) return undefined;
  let lo = numericBound(min);
  let hi = numericBound(max);
  // localsettings' convention: min = max = 0 means "no limits" (it does not check them either).
  if (lo !== undefined && hi !== undefined && compareNumbers(lo, 0) === 0 && compareNumbers(hi, 0) === 0) return undefined;
  // A min above the max is the service's mistake; honouring it would refuse every write for
  // ever, so the range is ignored (the service still has the last word on the value).
  if (lo !== undefined && hi !== undefined && compareNumbers(lo, hi) > 0) lo = hi = undefined;
  const text = encodeValue(value.signature, value.value);
  const show = (b: TypedValue) => encodeValue(b.signature, b.value);
  const below = lo !== undefined && compareNumbers(v, lo) < 0;
  const above = hi !== undefined && compareNumbers(v, hi) > 0;
  if (!below && !above) return undefined;
  if (lo !== undefined && hi !== undefined) return `${text} is outside ${show(min!)}…${show(max!)} (the item's min/max)`;
  return below ? `${text} is below ${show(min!)} (the item's min)` : `${text} is above ${show(max!)} (the item's max)`;
}
