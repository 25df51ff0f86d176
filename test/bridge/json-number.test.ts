// Doubles byte for byte as dbus-flashmq writes them: nlohmann::json 3.11.2's Grisu2 (spec J2).
// test/fixtures/doubles-nlohmann.txt holds that library's own output for ~5000 doubles.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { formatDouble, formatDoubleExact } from '../../src/bridge/json-number';

const FIXTURE = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'doubles-nlohmann.txt');

function fixture(): Array<{ x: number; text: string; kind: string; bits: string }> {
  const b = Buffer.alloc(8);
  return fs.readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const [bits, text, kind] = l.split(' ');
    b.write(bits, 'hex');
    return { x: b.readDoubleBE(0), text, kind, bits };
  });
}

const readsBack = (x: number, text: string) => Object.is(JSON.parse(text), x);

test('every double of the fixture is written exactly as nlohmann::json writes it, by both paths', () => {
  const cases = fixture();
  const kinds = new Map<string, number>();
  for (const c of cases) kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
  // the fixture covers what matters: real dbus-flashmq output, ties, non-shortest digits, float32-born values
  for (const [k, atLeast] of [['oracle', 1000], ['tie', 300], ['longer', 50], ['recording-f32', 400], ['pow2', 300], ['random', 400]] as const) {
    assert.ok((kinds.get(k) ?? 0) >= atLeast, `${k}: ${kinds.get(k)}`);
  }
  const wrong = cases.filter((c) => formatDouble(c.x) !== c.text || formatDoubleExact(c.x) !== c.text)
    .map((c) => `${c.bits} ${c.kind}: want ${c.text}, fast ${formatDouble(c.x)}, exact ${formatDoubleExact(c.x)}`);
  assert.deepEqual(wrong, []);
  // and what nlohmann writes always reads back as the same double
  assert.deepEqual(cases.filter((c) => !readsBack(c.x, c.text)).map((c) => c.bits), []);
});

test('a tie of a float32-born value goes up, as in dbus-flashmq (JavaScript goes down)', () => {
  // exactly -800.49200439453125: both 16-digit neighbours are equally close
  assert.equal(String(-800.49200439453125), '-800.4920043945312');
  assert.equal(formatDouble(-800.49200439453125), '-800.4920043945313');
  assert.equal(formatDouble(20.43000030517578), '20.43000030517578');
});

test('the layout: a point or an exponent always, plain between 1e-4 and 1e15, null for NaN and infinities', () => {
  const cases: Array<[number, string]> = [
    [0, '0.0'], [-0, '-0.0'], [100, '100.0'], [-52, '-52.0'], [1e20, '1e+20'], [1e-7, '1e-07'], [0.0001, '0.0001'],
    [1.5e-5, '1.5e-05'], [123456789012345, '123456789012345.0'], [999999999999999.9, '999999999999999.9'], [1e15, '1e+15'],
    [1e16, '1e+16'], [2.5e300, '2.5e+300'], [5e-324, '5e-324'], [1.7976931348623157e308, '1.7976931348623157e+308'],
  ];
  for (const [x, want] of cases) assert.equal(formatDouble(x), want, `formatDouble(${x})`);
  for (const x of [NaN, Infinity, -Infinity]) assert.equal(formatDouble(x), 'null');
});

test('the fast path agrees with the exact algorithm, and every output reads back to the same double', () => {
  const same = (x: number) => formatDouble(x) === formatDoubleExact(x) && readsBack(x, formatDouble(x));
  fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), same), { numRuns: 20000 });
  fc.assert(fc.property(fc.double({ min: 1e-5, max: 1e16, noNaN: true }), same), { numRuns: 20000 });
  // values born as float32 (most GX doubles), where ties are common
  fc.assert(fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (f) => same(f)), { numRuns: 20000 });
  fc.assert(fc.property(fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: 0, max: 6 }), (n, d) => same(n / 10 ** d)), { numRuns: 5000 });
});
