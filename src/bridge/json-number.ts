// Number formatting as dbus-flashmq writes it (nlohmann::json dump_float; spec J2): the
// shortest text that reads back exactly, always with a decimal point or an exponent
// ('0.0', '20.43000030517578', '1e+20', '1e-07'), and null for NaN and ±Infinity.
import { scientific, shortestDigits } from './shortest-digits';

export function formatDouble(x: number): string {
  // Fast path: where nlohmann writes plain decimals (1e-4 ≤ |x| < 1e15), JS's own shortest
  // round-trip text is the same apart from the '.0' of integral values.
  const a = x < 0 ? -x : x;
  if (a >= 1e-4 && a < 1e15) {
    const t = String(x);
    return t.includes('.') ? t : t + '.0';
  }
  return formatDoubleGeneral(x);
}

/** Every double, digit by digit as nlohmann::json's format_buffer lays them out. */
export function formatDoubleGeneral(x: number): string {
  if (!Number.isFinite(x)) return 'null';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const { neg, digits, point: n } = shortestDigits(x);
  const k = digits.length;
  let out: string;
  if (k <= n && n <= 15) {
    out = digits + '0'.repeat(n - k) + '.0';
  } else if (0 < n && n <= 15) {
    out = digits.slice(0, n) + '.' + digits.slice(n);
  } else if (-4 < n && n <= 0) {
    out = '0.' + '0'.repeat(-n) + digits;
  } else {
    out = scientific(digits, n - 1);
  }
  return neg ? '-' + out : out;
}
