// The decimal digits of a double exactly as nlohmann::json 3.11.2 chooses them (its
// detail::dtoa_impl, which dbus-flashmq uses for every double it publishes; spec J2).
//
// It is Florian Loitsch's Grisu2 ("Printing Floating-Point Numbers Quickly and Accurately with
// Integers", PLDI 2010) with 64-bit significands and the (alpha, gamma) = (-60, -32) window:
//  1. the double v and the midpoints m-, m+ to its neighbours, as 64-bit "diy" floats;
//  2. all three scaled by a cached power of ten c ≈ 10^-K (rounded to 64 bits) so that the
//     binary exponent lands in the window; the products are rounded to their upper 64 bits, so
//     the scaled interval is narrowed by one unit on each side to stay safe;
//  3. the digits of the upper bound M+ are generated until the rest drops within M+ − M-;
//  4. then the last digit is lowered while that brings the number strictly closer to the
//     (approximate) scaled v.
// Step 4 decides exact ties by the rounding error of step 2, which is why dbus-flashmq prints
// -800.4920043945313 where JavaScript prints -800.4920043945312 for -800.49200439453125. So this
// is computed with exact unsigned 64-bit arithmetic, wrapping like C++'s uint64_t, on pairs of
// 32-bit halves (BigInt would be three times slower). Our own implementation of the published
// algorithm; no code was taken from the library.

const TWO32 = 4294967296;

/** An unsigned 64-bit integer as two 32-bit halves; the operations change it in place. */
class U64 {
  constructor(public hi: number, public lo: number) {}

  copy(): U64 {
    return new U64(this.hi, this.lo);
  }

  isZero(): boolean {
    return this.hi === 0 && this.lo === 0;
  }

  cmp(o: U64): number {
    return this.hi !== o.hi ? this.hi - o.hi : this.lo - o.lo;
  }

  leadingZeros(): number {
    return this.hi !== 0 ? Math.clz32(this.hi) : 32 + Math.clz32(this.lo);
  }

  shl(n: number): this {
    if (n >= 32) {
      this.hi = n >= 64 ? 0 : (this.lo << (n - 32)) >>> 0;
      this.lo = 0;
    } else if (n > 0) {
      this.hi = ((this.hi << n) | (this.lo >>> (32 - n))) >>> 0;
      this.lo = (this.lo << n) >>> 0;
    }
    return this;
  }

  add(o: U64): this {
    const lo = this.lo + o.lo;
    const carry = lo >= TWO32 ? 1 : 0;
    this.lo = lo - carry * TWO32;
    this.hi = (this.hi + o.hi + carry) % TWO32;
    return this;
  }

  sub(o: U64): this {
    let lo = this.lo - o.lo;
    let hi = this.hi - o.hi;
    if (lo < 0) { lo += TWO32; hi--; }
    this.lo = lo;
    this.hi = hi < 0 ? hi + TWO32 : hi;
    return this;
  }

  addSmall(n: number): this {
    return this.add(new U64(0, n));
  }

  mul10(): this {
    const lo = this.lo * 10;
    const carry = Math.floor(lo / TWO32);
    this.lo = lo - carry * TWO32;
    this.hi = (this.hi * 10 + carry) % TWO32;
    return this;
  }
}

/** The upper 32 bits of a × b (both below 2^32), given its lower 32 bits `lo`, exactly. */
function mulHi32(a: number, b: number, lo: number): number {
  // a·b as a double is within 2^12 of the truth, so the high half rounds back exactly
  return Math.round((a * b - lo) / TWO32);
}

/** The upper 64 bits of the 128-bit product x·y, rounded (ties up): diy-fp multiplication. */
function mulHigh(x: U64, y: U64): U64 {
  const p0hi = mulHi32(x.lo, y.lo, Math.imul(x.lo, y.lo) >>> 0);
  const p1lo = Math.imul(x.lo, y.hi) >>> 0;
  const p2lo = Math.imul(x.hi, y.lo) >>> 0;
  const p3lo = Math.imul(x.hi, y.hi) >>> 0;
  const q = p0hi + p1lo + p2lo + 2147483648; // < 2^34, with the rounding bit
  const low = p3lo + mulHi32(x.lo, y.hi, p1lo) + mulHi32(x.hi, y.lo, p2lo) + Math.floor(q / TWO32); // < 2^34
  const carry = Math.floor(low / TWO32);
  return new U64((mulHi32(x.hi, y.hi, p3lo) + carry) % TWO32, low - carry * TWO32);
}

interface CachedPower {
  f: U64;
  e: number;
  k: number;
}

/** The cached powers of ten 10^k, k = -300, -292, …, 324, each rounded to a 64-bit significand. */
let powers: CachedPower[] | undefined;

function cachedPowers(): CachedPower[] {
  if (powers) return powers;
  powers = [];
  const bits = (n: bigint) => n.toString(2).length;
  for (let k = -300; k <= 324; k += 8) {
    const num = k >= 0 ? 10n ** BigInt(k) : 1n;
    const den = k >= 0 ? 1n : 10n ** BigInt(-k);
    // e such that 2^63 <= 10^k / 2^e < 2^64, then the quotient rounded to nearest
    let e = bits(num) - bits(den) - 64;
    const ratio = (sh: number): [bigint, bigint] => (sh >= 0 ? [num, den << BigInt(sh)] : [num << BigInt(-sh), den]);
    let [a, b] = ratio(e);
    while (a >= b << 64n) [a, b] = ratio(++e);
    while (a < b << 63n) [a, b] = ratio(--e);
    let f = (2n * a + b) / (2n * b);
    if (f >> 64n) { f >>= 1n; e++; }
    powers.push({ f: new U64(Number(f >> 32n), Number(f & 0xffffffffn)), e, k });
  }
  return powers;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer); // little-endian on every platform Node runs on

/**
 * The digits and decimal exponent (value = digits × 10^exponent) that nlohmann's Grisu2 gives
 * for a finite positive double.
 */
export function grisu2(value: number): { digits: string; exponent: number } {
  f64[0] = value;
  const biased = u32[1] >>> 20;
  const fraction = new U64(u32[1] & 0xfffff, u32[0]);
  const v = biased === 0 ? fraction.copy() : new U64(fraction.hi | 0x100000, fraction.lo);
  const ve = biased === 0 ? -1074 : biased - 1075;
  // The neighbour below is closer when v is a power of two (but not the smallest normal).
  const lowerCloser = fraction.isZero() && biased > 1;
  const mPlus = v.copy().shl(1).addSmall(1);
  let plusE = ve - 1;
  const plusShift = mPlus.leadingZeros();
  mPlus.shl(plusShift);
  plusE -= plusShift;
  const mMinus = lowerCloser ? v.copy().shl(2).sub(new U64(0, 1)) : v.copy().shl(1).sub(new U64(0, 1));
  mMinus.shl((lowerCloser ? ve - 2 : ve - 1) - plusE);
  const w = v.copy();
  const wShift = w.leadingZeros();
  w.shl(wShift);

  // A cached power c that brings the scaled exponent into [-60, -32]: k = ceil((-60 - e - 1)
  // · log10 2), with integer arithmetic that truncates like C++.
  const t = -60 - plusE - 1;
  const k = Math.trunc((t * 78913) / 262144) + (t > 0 ? 1 : 0);
  const c = cachedPowers()[Math.trunc((300 + k + 7) / 8)];
  const scaledW = mulHigh(w, c.f);
  const lo = mulHigh(mMinus, c.f).addSmall(1);
  const hi = mulHigh(mPlus, c.f).sub(new U64(0, 1));
  const e = ve - wShift + c.e + 64;
  return digitGen(lo, scaledW, hi, e, -c.k);
}

function digitGen(mMinus: U64, w: U64, mPlus: U64, e: number, exponent: number): { digits: string; exponent: number } {
  const delta = mPlus.copy().sub(mMinus);
  const dist = mPlus.copy().sub(w);
  const shift = -e; // 32 … 60
  const hiShift = shift - 32;
  const hiUnit = 2 ** hiShift;
  // M+ = p1 · 2^shift + p2
  let p1 = Math.floor(mPlus.hi / hiUnit);
  const p2 = new U64(mPlus.hi % hiUnit, mPlus.lo);
  let digits = '';
  let pow10 = 1;
  let n = 1;
  while (pow10 * 10 <= p1) { pow10 *= 10; n++; }
  // the integral part, digit by digit
  while (n > 0) {
    const d = Math.floor(p1 / pow10);
    p1 -= d * pow10;
    digits += String.fromCharCode(48 + d);
    n--;
    const rest = new U64(p1 * hiUnit + p2.hi, p2.lo);
    if (rest.cmp(delta) <= 0) {
      return { digits: round(digits, dist, delta, rest, new U64(pow10 * hiUnit, 0)), exponent: exponent + n };
    }
    pow10 /= 10;
  }
  // the fractional part
  let m = 0;
  for (;;) {
    p2.mul10();
    const d = Math.floor(p2.hi / hiUnit);
    p2.hi -= d * hiUnit;
    digits += String.fromCharCode(48 + d);
    m++;
    delta.mul10();
    dist.mul10();
    if (p2.cmp(delta) <= 0) break;
  }
  return { digits: round(digits, dist, delta, p2, new U64(hiUnit, 0)), exponent: exponent - m };
}

/** Lowers the last digit while that brings the number strictly closer to w (uint64 arithmetic). */
function round(digits: string, dist: U64, delta: U64, rest: U64, tenK: U64): string {
  let last = digits.charCodeAt(digits.length - 1);
  const start = last;
  for (;;) {
    if (rest.cmp(dist) >= 0 || delta.copy().sub(rest).cmp(tenK) < 0) break;
    const next = rest.copy().add(tenK);
    if (!(next.cmp(dist) < 0 || dist.copy().sub(rest).cmp(next.copy().sub(dist)) > 0)) break;
    last--;
    rest = next;
  }
  return last === start ? digits : digits.slice(0, -1) + String.fromCharCode(last);
}
