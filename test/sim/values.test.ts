// Unit tests (no bus): velib SetValue coercion, text formatting, recording and scenario parsing.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  Variant, coerceForSet, defaultText, formatText, inferVariant, isInvalid, parseRecording, parseScenario,
  recorderValue, loadRecording, loadScenario, syntheticSystem, valuesEqual,
} from '../../src/sim';
import { inferTextFormat, pythonFloat } from '../../src/sim/values';
import { parseTsv } from '../../src/sim/recording';
import { ESS_RECORDINGS, TANK_RECORDINGS, fixture } from './helpers';

test('SetValue coercion follows velib: ints, doubles, strings, range, invalid', () => {
  const c = (sig: string, v: unknown, t: string | undefined) => coerceForSet(new Variant(sig, v), t);
  assert.deepEqual(c('i', 5, 'd'), new Variant('d', 5));
  assert.deepEqual(c('d', 7.0, 'i'), new Variant('i', 7));
  assert.equal(c('d', 1.5, 'i'), undefined);
  assert.equal(c('i', 300, 'y'), undefined);
  assert.equal(c('i', -1, 'u'), undefined);
  assert.deepEqual(c('i', 65535, 'q'), new Variant('q', 65535));
  assert.equal(c('i', 65536, 'q'), undefined);
  assert.equal(c('s', '5', 'i'), undefined);
  assert.equal(c('i', 5, 's'), undefined);
  assert.deepEqual(c('s', 'abc', 's'), new Variant('s', 'abc'));
  assert.deepEqual(c('i', 5, 'x'), new Variant('x', 5n));
  assert.deepEqual(c('x', 2n ** 40n, 'd'), new Variant('d', 2 ** 40));
  assert.equal(c('x', 2n ** 40n, 'i'), undefined);
  assert.deepEqual(c('b', true, 'b'), new Variant('b', true));
  assert.deepEqual(c('i', 1, 'b'), new Variant('b', true));
  assert.equal(c('i', 2, 'b'), undefined);
  // empty arrays of any type are the invalid value, accepted by every item
  for (const [sig, val] of [['ai', []], ['ad', []], ['as', []], ['ay', Buffer.alloc(0)]] as Array<[string, unknown]>) {
    const r = c(sig, val, 'd');
    assert.ok(r && isInvalid(r) && r.signature === 'ai', sig);
  }
  assert.equal(c('ai', [1], 'd'), undefined);
  assert.deepEqual(c('ai', [1, 2], 'ad'), new Variant('ad', [1, 2]));
  assert.deepEqual(c('ai', [1, 255], 'ay'), new Variant('ay', Buffer.from([1, 255])));
  // an item without a fixed type takes anything
  assert.deepEqual(c('s', 'x', undefined), new Variant('s', 'x'));
  assert.equal(c('d', NaN, 'd'), undefined);
});

test('value equality is Python ==, invalid equals invalid', () => {
  assert.ok(valuesEqual(new Variant('i', 1), new Variant('d', 1)));
  assert.ok(!valuesEqual(new Variant('d', 1.5), new Variant('d', 1.25)));
  assert.ok(valuesEqual(new Variant('ai', []), new Variant('ad', [])));
  assert.ok(!valuesEqual(new Variant('ai', []), new Variant('i', 0)));
  assert.ok(valuesEqual(new Variant('ay', Buffer.from([1, 2])), new Variant('ay', Buffer.from([1, 2]))));
  assert.ok(!valuesEqual(new Variant('s', 'a'), new Variant('s', 'b')));
});

test('text: learned from a recorded example, else str() like velib', () => {
  const d = (x: number) => new Variant('d', x);
  assert.deepEqual(inferTextFormat(d(56.9799995422), '56.98V'), { kind: 'fixed', decimals: 2, unit: 'V' });
  assert.equal(formatText(d(12.5), inferTextFormat(d(56.9799995422), '56.98V')), '12.50V');
  assert.equal(formatText(d(466.98), inferTextFormat(d(466.989990234), '467W')), '467W');
  assert.equal(formatText(new Variant('q', 41313), inferTextFormat(new Variant('q', 41312), '0xA160')), '0xA161');
  assert.equal(inferTextFormat(new Variant('u', 776), 'v3.08'), undefined);
  assert.equal(defaultText(d(1)), '1.0');
  assert.equal(defaultText(d(0.1)), '0.1');
  assert.equal(defaultText(new Variant('i', 5)), '5');
  assert.equal(defaultText(new Variant('ai', [])), '---');
  assert.equal(defaultText(new Variant('b', true)), 'True');
  assert.equal(pythonFloat(1e-7), '1e-07');
  assert.equal(pythonFloat(1e20), '1e+20');
});

test('inferVariant picks D-Bus types for JS values', () => {
  assert.equal(inferVariant(5).signature, 'i');
  assert.equal(inferVariant(5.5).signature, 'd');
  assert.equal(inferVariant(2 ** 40).signature, 'x');
  assert.equal(inferVariant('s').signature, 's');
  assert.equal(inferVariant(null).signature, 'ai');
  assert.equal(inferVariant(Buffer.from([1])).signature, 'ay');
  assert.equal(inferVariant([1.5, 2]).signature, 'ad');
  assert.equal(inferVariant({ a: 1 }).signature, 'a{sv}');
});

test('recording parser: quotes, types, arrays, blank-line separator, changes', () => {
  assert.deepEqual(parseTsv("a\t'b\tc'\t'it''s'\n\nx\ty\n"), [['a', 'b\tc', "it's"], [''], ['x', 'y']]);
  assert.deepEqual(recorderValue('UINT16', '41312'), new Variant('q', 41312));
  assert.deepEqual(recorderValue('BOOLEAN', 'True'), new Variant('b', true));
  assert.ok(isInvalid(recorderValue('ARRAY', '[]')));
  assert.deepEqual(recorderValue('ARRAY[BYTE]', '[0, 255]'), new Variant('ay', Buffer.from([0, 255])));
  assert.deepEqual(recorderValue('ARRAY[INT32]', '[1, -2]'), new Variant('ai', [1, -2]));
  assert.throws(() => recorderValue('FLOAT', '1'), /unknown type/);
  const def = parseRecording("com.victronenergy.test.x\n/A\tDOUBLE\t1.5\t1.50V\n/B\tARRAY\t[]\t\n'/C'\tSTRING\t'a b'\t'a b'\n\n" +
    '0\t/A\tDOUBLE\t2.0\t2.00V\n1\t/B\tINT32\t3\t3\n');
  assert.equal(def.name, 'com.victronenergy.test.x');
  assert.deepEqual(Object.keys(def.paths), ['/A', '/B', '/C']);
  assert.deepEqual(def.paths['/A'], { type: 'd', value: new Variant('d', 1.5), text: '1.50V' });
  assert.equal((def.paths['/B'] as { type?: string }).type, undefined);
  assert.equal(def.changes!.length, 2);
  assert.deepEqual(def.changes![1], { at: 1, path: '/B', value: new Variant('i', 3), text: '3' });
});

test('the fixture recordings load with their device instances', () => {
  const expect: Record<string, [string, number]> = {
    vebus: ['com.victronenergy.vebus.ttyO1', 257],
    solarcharger: ['com.victronenergy.solarcharger.ttyO2', 258],
    battery: ['com.victronenergy.battery.ttyO0', 256],
    grid: ['com.victronenergy.grid.cgwacs_ttyUSB0_di30_mb1', 30],
    pvinverter: ['com.victronenergy.pvinverter.cgwacs_ttyUSB0_di32_mb2', 32],
    tank_fuel: ['com.victronenergy.tank.socketcan_can0_di3_uc69', 3],
    tank_fwater: ['com.victronenergy.tank.socketcan_can0_di2_uc69', 2],
  };
  for (const f of [...ESS_RECORDINGS, ...TANK_RECORDINGS]) {
    const def = loadRecording(f);
    const key = f.replace(/.*\//, '').replace('.csv', '');
    assert.equal(def.name, expect[key][0]);
    const di = (def.paths['/DeviceInstance'] as { value: Variant }).value;
    assert.equal(di.value, expect[key][1], key);
    assert.ok(def.changes!.length > 0, `${key} has changes`);
  }
});

test('scenario parser: fixture, shorthand values, errors name the place', () => {
  const defs = loadScenario(fixture('scenarios', 'basic.json'));
  assert.equal(defs.length, 2);
  assert.equal(defs[0].name, 'com.victronenergy.battery.scenario');
  assert.deepEqual(defs[1].options, { getItems: false, signals: 'properties' });
  assert.equal(defs[0].paths['/Serial'], 'HQ1234ABCDE');
  assert.equal(defs[0].changes!.length, 3);
  const withRec = parseScenario(JSON.stringify({ services: [{ recording: 'recordings/tank_fuel.csv', paths: { '/Extra': 1 } }] }),
    'x.json', fixture());
  assert.equal(withRec[0].name, 'com.victronenergy.tank.socketcan_can0_di3_uc69');
  assert.ok('/Level' in withRec[0].paths && '/Extra' in withRec[0].paths);
  assert.throws(() => parseScenario('{"services":[{"name":"com.victronenergy.a.b","paths":{"/A":{"valu":1}}}]}', 'bad.json'),
    /bad\.json: services\[0\] \/A: unknown path field 'valu'/);
  assert.throws(() => parseScenario('{"services":[{"name":"a.b","options":{"signals":"all"}}]}', 'bad.json'), /signals must be/);
});

test('syntheticSystem: N services × M paths, mixed types, DeviceInstance = i', () => {
  const defs = syntheticSystem(3, 25);
  assert.deepEqual(defs.map((d) => d.name), [0, 1, 2].map((i) => `com.victronenergy.synthetic.s${i}`));
  for (const [i, d] of defs.entries()) {
    assert.equal(Object.keys(d.paths).length, 25);
    assert.deepEqual(d.paths['/DeviceInstance'], { type: 'i', value: i });
  }
  const types = new Set(Object.values(defs[0].paths).map((p) => (p as { type: string }).type));
  assert.deepEqual([...types].sort(), ['d', 'i', 's']);
});
