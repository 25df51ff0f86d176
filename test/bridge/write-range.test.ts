// The item's min/max applied to writes (issue 11 #9), across types and with broken ranges.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareNumbers, rangeProblem } from '../../src/bridge/write-range';
import { TypedValue } from '../../src/bridge/typed-value';

const i = (v: number): TypedValue => ({ signature: 'i', value: v });
const d = (v: number): TypedValue => ({ signature: 'd', value: v });
const x = (v: bigint): TypedValue => ({ signature: 'x', value: v });
const INVALID: TypedValue = { signature: 'ai', value: [] };

test('inside passes, outside is refused with the range in the message', () => {
  assert.equal(rangeProblem(i(3), i(0), i(3)), undefined);
  assert.equal(rangeProblem(i(0), i(0), i(3)), undefined);
  assert.equal(rangeProblem(i(7), i(0), i(3)), "7 is outside 0…3 (the item's min/max)");
  assert.equal(rangeProblem(i(-1), i(0), i(3)), "-1 is outside 0…3 (the item's min/max)");
  assert.equal(rangeProblem(d(100.5), d(0), d(100)), "100.5 is outside 0.0…100.0 (the item's min/max)");
  assert.equal(rangeProblem(d(-2), d(-1), INVALID), "-2.0 is below -1.0 (the item's min)");
  assert.equal(rangeProblem(d(1e9), INVALID, d(300000)), "1000000000.0 is above 300000.0 (the item's max)");
  assert.equal(rangeProblem(d(-1e9), undefined, d(0)), undefined, 'only a max: anything below passes');
  assert.equal(rangeProblem(i(5), undefined, undefined), undefined);
});

test('bounds of another type than the value compare exactly', () => {
  assert.equal(rangeProblem(d(3.5), i(0), i(3)), "3.5 is outside 0…3 (the item's min/max)", 'int bounds on a double item');
  assert.equal(rangeProblem(d(3.0), i(0), i(3)), undefined);
  assert.equal(rangeProblem(i(3), d(0), d(2.5)), "3 is outside 0.0…2.5 (the item's min/max)", 'double bounds on an int item');
  assert.equal(rangeProblem(i(2), d(0), d(2.5)), undefined);
  assert.equal(rangeProblem(x(9007199254740993n), d(0), d(9007199254740992)), "9007199254740993 is outside 0.0…9.007199254740992e+15 (the item's min/max)",
    'an int64 one above a double bound is above it, though both are the same double');
  assert.equal(rangeProblem(x(-9223372036854775808n), x(-9223372036854775808n), x(0n)), undefined);
  assert.equal(rangeProblem({ signature: 'u', value: 4294967295 }, { signature: 'v', value: i(0) }, { signature: 'v', value: i(100) }),
    "4294967295 is outside 0…100 (the item's min/max)", 'bounds inside variants');
  fc.assert(fc.property(fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }), fc.double({ noNaN: true }), (a, b) => {
    const exact = Number.isFinite(b) ? Math.sign(Number(a - BigInt(Math.trunc(b)))) || Math.sign(Math.trunc(b) - b) : (b > 0 ? -1 : 1);
    return Math.sign(compareNumbers(a, b)) === exact && Math.sign(compareNumbers(b, a)) === -exact;
  }), { numRuns: 5000 });
});

test('unusable ranges never block writes: invalid or non-numeric bounds, min above max, min = max = 0', () => {
  assert.equal(rangeProblem(i(7), INVALID, INVALID), undefined);
  assert.equal(rangeProblem(i(7), { signature: 's', value: '0' }, { signature: 's', value: '3' }), undefined);
  assert.equal(rangeProblem(i(7), d(NaN), i(3)), "7 is above 3 (the item's max)", 'a NaN bound is ignored, the other still holds');
  assert.equal(rangeProblem(i(7), i(10), i(3)), undefined, 'min above max: the service\'s mistake, the range is ignored');
  assert.equal(rangeProblem(i(7), i(0), i(0)), undefined, "localsettings: 0/0 means no limits");
  assert.equal(rangeProblem(d(7), d(0), d(0)), undefined);
  assert.equal(rangeProblem(i(7), i(0), d(-0)), undefined);
  // only numbers are checked
  assert.equal(rangeProblem({ signature: 's', value: '99' }, i(0), i(3)), undefined);
  assert.equal(rangeProblem(INVALID, i(0), i(3)), undefined, 'null (invalid) may always be written');
  assert.equal(rangeProblem({ signature: 'ai', value: [7] }, i(0), i(3)), undefined);
});
