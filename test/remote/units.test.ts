// The remote source's pure parts: the VRM broker of an installation (dbus-flashmq README's
// algorithm), connection options, notification topics and payloads, and values both ways:
// whatever dbus-flashmq can publish decodes to a value the engine re-encodes to the same bytes.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as os from 'os';
import * as tls from 'tls';
import fc from 'fast-check';
import { encodePayload } from '../../src/bridge/payload';
import { brokerEndpoint, sameBroker } from '../../src/mqtt/broker-endpoint';
import { INVALID, TypedValue } from '../../src/bridge/typed-value';
import { resolveConnection, vrmBrokerIndex, vrmMqttUrl, vrmWebsocketUrl } from '../../src/remote';
import { literalTextOf, WriteEncodeError } from '../../src/remote/json-typed';
import { decodeItemPayload, parseNotificationTopic } from '../../src/remote/notification';
import { venusCa } from '../../src/remote/venus-ca';

test('VRM broker: the sum of the character codes of the lower-cased, trimmed portal ID, modulo 128', () => {
  // worked out by hand from the README's rule: e.g. 'c0619ab1f00d' sums to 1233, 1233 mod 128 = 81
  for (const [id, n] of [['c0619ab1f00d', 81], ['48e7da87942f', 65], ['0123456789ab', 80], [' HQ2401ABCDE\n', 15]] as const) {
    assert.equal(vrmBrokerIndex(id), n, id);
  }
  assert.equal(vrmBrokerIndex('C0619AB1F00D'), vrmBrokerIndex('c0619ab1f00d'));
  assert.equal(vrmMqttUrl('c0619ab1f00d'), 'mqtts://mqtt81.victronenergy.com:8883');
  assert.equal(vrmWebsocketUrl('c0619ab1f00d'), 'wss://webmqtt81.victronenergy.com/mqtt');
  fc.assert(fc.property(fc.stringMatching(/^[0-9a-f]{12}$/), (id) => {
    const i = vrmBrokerIndex(id);
    return Number.isInteger(i) && i >= 0 && i < 128 && vrmBrokerIndex(`  ${id.toUpperCase()} `) === i;
  }));
  assert.throws(() => vrmBrokerIndex('  '), /portal ID/);
});

test('connection options: VRM derived, with the Venus CA and a Token password; the GX\'s broker by URL or address', () => {
  const vrm = resolveConnection({ gx: 'vrm', portalId: 'c0619ab1f00d', username: 'me@example.com', vrmToken: 'abc123' });
  assert.equal(vrm.url, 'mqtts://mqtt81.victronenergy.com:8883');
  assert.equal(vrm.mqtt.password, 'Token abc123');
  assert.equal(vrm.label, 'VRM mqtt81.victronenergy.com (portal c0619ab1f00d)');
  const ca = vrm.mqtt.ca as Buffer[];
  assert.ok(ca.some((c) => Buffer.isBuffer(c) && c.equals(venusCa())), 'the Venus CA');
  assert.ok(ca.length > tls.rootCertificates.length, 'and the public roots');
  const ws = resolveConnection({ gx: 'vrm-ws', portalId: 'c0619ab1f00d', username: 'me@example.com', password: 'Token abc123' });
  assert.equal(ws.url, 'wss://webmqtt81.victronenergy.com/mqtt');
  assert.equal(ws.mqtt.password, 'Token abc123');
  assert.throws(() => resolveConnection({ gx: 'vrm', portalId: 'c0619ab1f00d' }), /VRM needs your VRM e-mail address/);
  const lan = resolveConnection({ gx: '192.168.1.20', portalId: 'c0619ab1f00d' });
  assert.equal(lan.url, 'mqtt://192.168.1.20');
  assert.equal(lan.tls, false);
  const gxTls = resolveConnection({ gx: 'mqtts://venus.local:8883', portalId: 'c0619ab1f00d', username: 'token/nodered/a1', password: 's' });
  assert.deepEqual(gxTls.mqtt.ca, [venusCa()]);
  assert.equal(typeof (gxTls.mqtt as Record<string, unknown>).checkServerIdentity, 'function', 'a GX certificate named venus.local passes');
  assert.throws(() => resolveConnection({ gx: 'mqtt://u:p@host', portalId: 'x1' }), /not in the URL/);
  assert.throws(() => resolveConnection({ gx: 'http://host', portalId: 'x1' }), /is not a GX/);
  assert.throws(() => resolveConnection({ gx: 'host', portalId: 'N/#' }), /not a portal ID/);
  assert.throws(() => resolveConnection({ gx: 'host', portalId: '' }), /needs its portal ID/);
});

test('notification topics: items with type, instance and path; special topics; anything else is invalid', () => {
  assert.deepEqual(parseNotificationTopic('battery/256/Dc/0/Voltage'), { kind: 'item', key: 'battery/256', type: 'battery', instance: '256', path: '/Dc/0/Voltage' });
  assert.deepEqual(parseNotificationTopic('vecan/vecan0/Devices/00002CC1F694/ModelName'),
    { kind: 'item', key: 'vecan/vecan0', type: 'vecan', instance: 'vecan0', path: '/Devices/00002CC1F694/ModelName' });
  for (const s of ['heartbeat', 'keepalive', 'full_publish_completed'] as const) assert.deepEqual(parseNotificationTopic(s), { kind: 'special', name: s });
  assert.deepEqual(parseNotificationTopic('GuiCustomizations/Apps/X/info'), { kind: 'special', name: 'other' });
  for (const bad of ['battery/256', 'battery/256/', 'bat.tery/1/X', 'battery/+/X', 'battery/256/A/#', 'battery/256/a-b', 'battery//X', 'x/1/' + 'a'.repeat(1100)]) {
    assert.equal(parseNotificationTopic(bad).kind, 'invalid', bad);
  }
});

test('payloads: empty = gone, the fast path and the general parser agree, bad ones say why', () => {
  const d = (s: string | Buffer) => decodeItemPayload(Buffer.isBuffer(s) ? s : Buffer.from(s), 1000);
  assert.deepEqual(d(''), { kind: 'gone' });
  assert.deepEqual(d('{"value":42}'), { kind: 'value', value: { signature: 'i', value: 42 } });
  assert.deepEqual(d('{"value":2147483648}'), { kind: 'value', value: { signature: 'x', value: 2147483648n } });
  assert.deepEqual(d('{"value":42.0}'), { kind: 'value', value: { signature: 'd', value: 42 } });
  assert.deepEqual(d('{"value":1e-07}'), { kind: 'value', value: { signature: 'd', value: 1e-7 } });
  assert.deepEqual(d('{"value":null}'), { kind: 'value', value: INVALID });
  assert.deepEqual(d('{"value":"plain text °C"}'), { kind: 'value', value: { signature: 's', value: 'plain text °C' } });
  assert.deepEqual(d('{"value":"a\\"b"}'), { kind: 'value', value: { signature: 's', value: 'a"b' } });
  assert.match((d('{"value":"x"},"y"}') as { why: string }).why, /trailing characters/);
  assert.deepEqual(d('{"max":1,"min":0,"value":1}'),
    { kind: 'value', value: { signature: 'i', value: 1 }, min: { signature: 'i', value: 0 }, max: { signature: 'i', value: 1 } });
  assert.match((d('{"value":1') as { why: string }).why, /invalid JSON/);
  assert.match((d('{"v":1}') as { why: string }).why, /no 'value'/);
  assert.match((d(Buffer.from([0x7b, 0xff, 0x7d])) as { why: string }).why, /not valid UTF-8/);
  assert.match((d(`{"value":"${'x'.repeat(2000)}"}`) as { why: string }).why, /over the 1000-byte limit/);
  assert.deepEqual(d('{"value":"\ufffd"}'), { kind: 'value', value: { signature: 's', value: '\ufffd' } }, 'a real U+FFFD is fine');
});

/** D-Bus values as dbus-flashmq can publish them. */
const leaf: fc.Arbitrary<TypedValue> = fc.oneof(
  fc.integer({ min: -2147483648, max: 2147483647 }).map((v) => ({ signature: 'i', value: v })),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }).filter((v) => v < -(2n ** 31n) || v > 2n ** 31n - 1n)
    .map((v) => ({ signature: v > 2n ** 63n - 1n ? 't' : 'x', value: v })),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => ({ signature: 'd', value: v })),
  fc.boolean().map((v) => ({ signature: 'b', value: v })),
  fc.string({ unit: 'binary' }).map((v) => ({ signature: 's', value: v })),
  fc.constant(INVALID),
);
const value: fc.Arbitrary<TypedValue> = fc.letrec<{ v: TypedValue }>((tie) => ({
  v: fc.oneof({ depthSize: 'small' },
    leaf,
    fc.array(fc.integer({ min: -2147483648, max: 2147483647 }), { minLength: 1, maxLength: 5 }).map((a) => ({ signature: 'ai', value: a })),
    fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 5 }).map((a) => ({ signature: 'ad', value: a })),
    fc.array(fc.string(), { minLength: 1, maxLength: 5 }).map((a) => ({ signature: 'as', value: a })),
    fc.array(tie('v'), { minLength: 1, maxLength: 4 }).map((a) => ({ signature: 'av', value: a })),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), tie('v'), { minKeys: 1, maxKeys: 4 }).map((o) => ({ signature: 'a{sv}', value: o })),
  ),
})).v;

test('every payload dbus-flashmq can publish decodes to a value that re-encodes to the same bytes', () => {
  fc.assert(fc.property(value, fc.option(leaf, { nil: undefined }), (v, minmax) => {
    const text = encodePayload(v, minmax, minmax);
    const d = decodeItemPayload(Buffer.from(text, 'utf8'), 1 << 20);
    assert.equal(d.kind, 'value', text);
    if (d.kind !== 'value') return;
    assert.equal(encodePayload(d.value, d.min, d.max), text);
  }), { numRuns: 2000 });
});

test('written values as dbus-flashmq types them: doubles with .0 or an exponent, ints as digits, null for invalid', () => {
  assert.equal(literalTextOf({ signature: 'd', value: 230 }), '230.0');
  assert.equal(literalTextOf({ signature: 'd', value: 1e20 }), '1e+20');
  assert.equal(literalTextOf({ signature: 'd', value: -0.000001 }), '-1e-06');
  assert.equal(literalTextOf({ signature: 'i', value: -200 }), '-200');
  assert.equal(literalTextOf({ signature: 'x', value: 9007199254740993n }), '9007199254740993');
  assert.equal(literalTextOf({ signature: 'u', value: 4294967295 }), '4294967295');
  assert.equal(literalTextOf({ signature: 'b', value: true }), 'true');
  assert.equal(literalTextOf({ signature: 's', value: 'a"b\\c\n°' }), '"a\\"b\\\\c\\n°"');
  assert.equal(literalTextOf(INVALID), 'null');
  assert.equal(literalTextOf({ signature: 'au', value: [] }), '[]');
  assert.equal(literalTextOf({ signature: 'ad', value: [1, 2.5] }), '[1.0,2.5]');
  assert.equal(literalTextOf({ signature: 'aai', value: [[1], [2, 3]] }), '[[1],[2,3]]');
  assert.equal(literalTextOf({ signature: 'v', value: { signature: 'd', value: 3 } }), '3.0');
  assert.throws(() => literalTextOf({ signature: 'd', value: NaN }), WriteEncodeError);
  assert.throws(() => literalTextOf({ signature: 'a{sv}', value: {} }), /dict cannot be written/);
});

test('broker endpoints: the same broker under the names and defaults of a URL; others apart', () => {
  for (const [x, y] of [
    ['mqtt://127.0.0.1:1883', 'mqtt://localhost'], ['mqtt://LocalHost:1883/', 'tcp://127.0.0.1'], ['mqtts://gx.lan', 'ssl://GX.lan:8883'],
    ['ws://gx.lan:9001/mqtt', 'ws://gx.lan:9001'], ['wss://h.example/mqtt', 'wss://h.example:443'], ['mqtt://[::1]:1884', 'mqtt://127.0.0.2:1884'],
    [`mqtt://${os.hostname()}:1883`, 'mqtt://localhost'],
  ]) assert.equal(sameBroker(x, y), true, `${x} ~ ${y}`);
  for (const [x, y] of [['mqtt://gx.lan', 'mqtt://gx.lan:1884'], ['mqtt://gx.lan', 'mqtt://other.lan'], ['mqtt://gx.lan', 'mqtts://gx.lan'],
    ['not a url', 'not a url'], ['ftp://gx.lan', 'ftp://gx.lan']]) {
    assert.equal(sameBroker(x, y), false, `${x} ≁ ${y}`);
  }
  assert.equal(brokerEndpoint('mqtt://Example.COM.'), 'example.com:1883');
});
