// Payload bytes as dbus-flashmq writes them (spec J1–J4, N2, Appendix A.2).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { formatDouble } from '../../src/bridge/json-number';
import { encodePayload, encodeValue, isMaskedSetting, toPlain } from '../../src/bridge/payload';

test('doubles keep a decimal point or exponent, like nlohmann::json', () => {
  const cases: Array<[number, string]> = [
    [0, '0.0'], [100, '100.0'], [-52, '-52.0'], [20.43000030517578, '20.43000030517578'],
    [1e20, '1e+20'], [1e-7, '1e-07'], [0.0001, '0.0001'], [1.5e-5, '1.5e-05'], [123456789012345, '123456789012345.0'],
    [1e15, '1e+15'], [-44.9000015259, '-44.9000015259'], [2.5e300, '2.5e+300'], [5e-324, '5e-324'],
  ];
  for (const [x, want] of cases) assert.equal(formatDouble(x), want, `formatDouble(${x})`);
  assert.equal(formatDouble(NaN), 'null');
  assert.equal(formatDouble(Infinity), 'null');
  assert.equal(formatDouble(-Infinity), 'null');
  for (const [x] of cases) assert.equal(JSON.parse(formatDouble(x)), x, 'reads back exactly');
});

test('integers carry no decimal point and int64 keeps every digit', () => {
  assert.equal(encodeValue('i', 936), '936');
  assert.equal(encodeValue('u', 4294967295), '4294967295');
  assert.equal(encodeValue('x', 9007199254740993n), '9007199254740993');
  assert.equal(encodeValue('t', 18446744073709551615n), '18446744073709551615');
  assert.equal(encodeValue('y', 7), '7');
});

test('every empty array is null; byte arrays are integer arrays; dicts are sorted objects', () => {
  assert.equal(encodeValue('ai', []), 'null');
  assert.equal(encodeValue('as', []), 'null');
  assert.equal(encodeValue('ay', Buffer.from([0, 18, 255])), '[0,18,255]');
  assert.equal(encodeValue('ad', [1, 2.5]), '[1.0,2.5]');
  assert.equal(encodeValue('a{sv}', { b: { signature: 'd', value: 7 }, a: { signature: 'i', value: 3 } }), '{"a":3,"b":7.0}');
  assert.equal(encodeValue('a{sv}', {}), 'null');
  assert.equal(encodeValue('v', { signature: 'd', value: 1 }), '1.0');
  assert.equal(encodeValue('(is)', [1, 'x']), '[1,"x"]');
});

test('strings are raw UTF-8 JSON strings', () => {
  assert.equal(encodeValue('s', '25°C "hot"\n'), '"25°C \\"hot\\"\\n"');
  assert.equal(encodeValue('b', true), 'true');
});

test('payloads: value, min and max with sorted keys and no spaces', () => {
  assert.equal(encodePayload({ signature: 'i', value: 936 }), '{"value":936}');
  assert.equal(encodePayload({ signature: 'ai', value: [] }), '{"value":null}');
  assert.equal(encodePayload({ signature: 'd', value: NaN }), '{"value":null}');
  assert.equal(encodePayload({ signature: 'i', value: 1 }, { signature: 'i', value: 0 }, { signature: 'i', value: 1 }),
    '{"max":1,"min":0,"value":1}');
  assert.equal(encodePayload({ signature: 'd', value: 100 }, { signature: 'd', value: -1e6 }, { signature: 'd', value: 1e6 }),
    '{"max":1000000.0,"min":-1000000.0,"value":100.0}');
});

test('the BLE pincode and access-point password are masked (J4)', () => {
  assert.ok(isMaskedSetting('settings', '/Settings/Ble/Service/Pincode'));
  assert.ok(isMaskedSetting('settings', '/Settings/Services/AccessPointPassword'));
  assert.ok(!isMaskedSetting('battery', '/Settings/Ble/Service/Pincode'));
  assert.equal(encodePayload({ signature: 's', value: '123456' }, undefined, undefined, true), '{"value":"******"}');
  assert.equal(encodePayload({ signature: 'i', value: 5 }, undefined, undefined, true), '{"value":5}');
});

test('plain values for flows: invalid is null, big int64 stays exact', () => {
  assert.equal(toPlain('ai', []), null);
  assert.equal(toPlain('d', NaN), null);
  assert.equal(toPlain('x', 5n), 5);
  assert.equal(toPlain('x', 9007199254740993n), 9007199254740993n);
  assert.deepEqual(toPlain('ay', Buffer.from([1, 2])), [1, 2]);
  assert.deepEqual(toPlain('a{sv}', { x: { signature: 'i', value: 1 } }), { x: 1 });
});
