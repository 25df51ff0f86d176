// Doubles as dbus-flashmq writes them (nlohmann::json 3.11.2 dump_float; spec J2), byte for
// byte: its Grisu2 digits (grisu2.ts), laid out like printf("%g") with a decimal point or an
// exponent always ('0.0', '20.43000030517578', '1e+20', '1e-07'), and null for NaN and ±Infinity.
import { grisu2 } from './grisu2';

export function formatDouble(x: number): string {
  if (x !== x || x === Infinity || x === -Infinity) return 'null';
  const a = x < 0 ? -x : x;
  if (a >= 1e-4 && a < 1e15) {
    const t = String(x);
    const dot = t.indexOf('.');
    // An integral |x| < 1e15 < 2^53 is its own digits: no shorter or closer candidate exists.
    if (dot < 0) return t + '.0';
    if (jsDigitsAreGrisu2s(a, t.length - dot - 1)) return t;
  }
  return formatDoubleExact(x);
}

/** Every double through the exact algorithm (the reference the fast path is tested against). */
export function formatDoubleExact(x: number): string {
  if (!Number.isFinite(x)) return 'null';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const neg = x < 0;
  const { digits, exponent } = grisu2(neg ? -x : x);
  const out = layout(digits, digits.length + exponent);
  return neg ? '-' + out : out;
}

/**
 * nlohmann's format_buffer with its limits for doubles (min_exp -4, max_exp 15): `digits` with
 * the decimal point `n` places from their start.
 */
function layout(digits: string, n: number): string {
  const k = digits.length;
  if (k <= n && n <= 15) return digits + '0'.repeat(n - k) + '.0';
  if (0 < n && n <= 15) return digits.slice(0, n) + '.' + digits.slice(n);
  if (-4 < n && n <= 0) return '0.' + '0'.repeat(-n) + digits;
  const e = n - 1;
  const ae = e < 0 ? -e : e;
  return (k === 1 ? digits : digits[0] + '.' + digits.slice(1)) + 'e' + (e < 0 ? '-' : '+') + (ae < 10 ? '0' : '') + ae;
}

// ---------------------------------------------------------------------------------------------
// The fast path. JavaScript's String(x) gives the shortest digits that read back as x, and of
// those the closest to x (ECMA-262 Number::toString). Grisu2 finds the shortest digits inside
// a slightly narrower interval [M-, M+] and takes the candidate closest to its approximate
// scaled x. Both agree whenever JS's candidate D · 10^-p is
//   (a) well inside the rounding interval, so Grisu2's narrower interval holds it too and
//       Grisu2 stops at the same length (it can never stop shorter than JS), and
//   (b) clearly closer to x than its neighbours D ± 1, so no tie is left to Grisu2's rounding.
// Grisu2's scaled significands are 64-bit integers in which one binary ulp of x is at least
// 1024 units; its bounds M-, M+ are off by less than 2 units and its scaled x by less than 1.
// The margins below are 5 and 4 times those (1 % of an ulp from the bounds, ulp/256 from a
// tie); anything closer, and everything outside 1e-4 … 1e15, goes to the exact algorithm
// (about 2 % of random doubles, 5 % of float32-born ones). test/bridge/json-number.test.ts checks
// the two paths against each other and against nlohmann's own output.

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i); // exact up to 10^22
const SPLIT = 134217729; // 2^27 + 1, Dekker's splitter
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer); // little-endian on every platform Node runs on

/** Whether String(a)'s digits (p of them after the point) are exactly what Grisu2 writes. */
function jsDigitsAreGrisu2s(a: number, p: number): boolean {
  if (p > 22) return false;
  // s = a · 10^p exactly, as hi + lo (Dekker's two-product; 10^p is an exact double)
  const b = POW10[p];
  const hi = a * b;
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  const lo = ((ah * bh - hi) + ah * bl + al * bh) + al * bl;
  // D, the nearest integer to s, and r = s − D: x = (D + r) · 10^-p
  let r: number;
  if (hi >= 4503599627370496) {
    r = lo - Math.round(lo); // hi is an integer (2^52 and above)
  } else {
    r = (hi - Math.round(hi)) + lo; // exact subtraction, then lo (far below the margins)
  }
  // one ulp of a, in decimal steps (2^(biased - 1075), built from its bits)
  f64[0] = a;
  const top = u32[1];
  const biased = top >>> 20;
  if (biased < 53) return false; // below 2^-1022 (never in the fast range)
  const lowerCloser = (top & 0xfffff) === 0 && u32[0] === 0;
  u32[1] = (biased - 52) << 20;
  u32[0] = 0;
  const ulp = f64[0] * b;
  // (b): Grisu2's scaled x is off by less than 1/1024 ulp; keep 4 times that from a tie
  const tie = 0.5 - ulp / 256;
  if (r >= tie || -r >= tie) return false;
  // (a): D lies r steps below x; the interval reaches half an ulp up, and half an ulp down too
  // unless a is a power of two (then a quarter); Grisu2's bounds are within 2/1024 ulp of those
  return r < (lowerCloser ? 0.24 : 0.49) * ulp && -r < 0.49 * ulp;
}
