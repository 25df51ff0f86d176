// The shortest decimal digits that read back as the same double, and where the decimal point
// goes: what both nlohmann::json (dbus-flashmq, J2) and Python's repr (dbus-mqtt) lay out, each
// with its own thresholds for exponent notation.

export interface DecimalDigits {
  neg: boolean;
  /** significant digits, no leading or trailing zeros: '2043000030517578' */
  digits: string;
  /** position of the decimal point relative to the digits: 0.5 → 0, 5 → 1, 50 → 2 */
  point: number;
}

/** For finite, non-zero x. */
export function shortestDigits(x: number): DecimalDigits {
  // toExponential() with no argument gives the shortest round-trip digits.
  const exp = x.toExponential();
  const neg = exp[0] === '-';
  const body = neg ? exp.slice(1) : exp;
  const ePos = body.indexOf('e');
  return { neg, digits: body.slice(0, ePos).replace('.', ''), point: Number(body.slice(ePos + 1)) + 1 };
}

/** `d.ddde±XX` from the digits and the decimal exponent (two exponent digits at least, as both write it). */
export function scientific(digits: string, exp10: number): string {
  const mant = digits.length === 1 ? digits : digits[0] + '.' + digits.slice(1);
  const ab = Math.abs(exp10);
  return mant + 'e' + (exp10 < 0 ? '-' : '+') + (ab < 10 ? '0' : '') + ab;
}
