// dbus-mqtt's payload text in legacy mode, checked against what CPython's json.dumps wrote
// (test/fixtures/python-json.json) and against dbus-mqtt's own conversions (spec N3, R9, J table).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { legacyPayload, legacyValue, pythonFloat, pythonString } from '../../src/bridge/legacy-payload';

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'python-json.json'), 'utf8')) as {
  floats: Array<[string, string]>;
  strings: Array<[string, string]>;
};

test('doubles are written as Python writes them, NaN and infinities included', () => {
  assert.ok(fixture.floats.length > 300);
  for (const [hex, py] of fixture.floats) {
    const x = Buffer.from(hex, 'hex').readDoubleLE(0);
    assert.equal(pythonFloat(x), py, `${hex} (${x})`);
  }
  for (const [x, py] of [[0, '0.0'], [1e20, '1e+20'], [1e-7, '1e-07'], [1.2345678901234568e17, '1.2345678901234568e+17'],
    [1e16, '1e+16'], [1e15, '1000000000000000.0'], [NaN, 'NaN'], [-Infinity, '-Infinity']] as Array<[number, string]>) {
    assert.equal(pythonFloat(x), py);
  }
});

test('strings are escaped as json.dumps(ensure_ascii=True) escapes them', () => {
  for (const [s, py] of fixture.strings) assert.equal(pythonString(s), py, JSON.stringify(s));
  assert.equal(pythonString('°C'), '"\\u00b0C"');
});

test('notification form: unwrap_dbus_value, then json.dumps', () => {
  const u = (sig: string, v: unknown) => legacyValue(sig, v, 'unwrapped');
  assert.equal(u('i', 1), '1');
  assert.equal(u('b', true), 'true');
  assert.equal(u('x', 4611686018427387905n), '4611686018427387905');
  assert.equal(u('t', 18446744073709551615n), '18446744073709551615');
  assert.equal(u('ai', []), 'null', 'an invalid value');
  assert.equal(u('as', []), 'null', 'any empty array');
  assert.equal(u('ad', [1.5, 2]), '[1.5, 2.0]');
  assert.equal(u('ay', Buffer.from([1, 2])), '[1, 2]');
  assert.equal(u('(is)', [1, 'a']), '[1, "a"]');
  assert.equal(u('a{sv}', {}), '{}', 'an empty dict is no array: {} (unwrap_dbus_value)');
  assert.equal(u('a{sv}', { zeta: { signature: 'i', value: 1 }, alpha: { signature: 'b', value: false }, m: { signature: 'ai', value: [] } }),
    '{"zeta": 1, "alpha": false, "m": null}', 'keys in D-Bus order, values unwrapped');
  assert.equal(u('a{iv}', { 3: { signature: 's', value: 'x' } }), '{"3": "x"}');
  assert.equal(u('v', { signature: 'v', value: { signature: 'd', value: 2 } }), '2.0', 'a variant in a variant');
});

test('read reply form: dbus-python types straight into json.dumps (R9)', () => {
  const r = (sig: string, v: unknown) => legacyValue(sig, v, 'raw');
  assert.equal(r('ai', []), '[]', 'invalid is []');
  assert.equal(r('b', true), '1', 'a D-Bus boolean is an int');
  assert.equal(r('b', false), '0');
  assert.equal(r('ab', [true, false]), '[1, 0]');
  assert.equal(r('a{sv}', { 'B/X': { signature: 'd', value: 2.5 }, A: { signature: 'b', value: true }, C: { signature: 'ai', value: [] } }),
    '{"B/X": 2.5, "A": 1, "C": []}');
});

test('payload: {"value": …} with a space, no min/max, masked secrets', () => {
  assert.equal(legacyPayload({ signature: 'i', value: 1 }, 'unwrapped'), '{"value": 1}');
  assert.equal(legacyPayload({ signature: 's', value: 'Grüße' }, 'unwrapped'), '{"value": "Gr\\u00fc\\u00dfe"}');
  assert.equal(legacyPayload({ signature: 's', value: '123456' }, 'raw', true), '{"value": "******"}');
});
