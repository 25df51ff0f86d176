// The write path on a real dbus-daemon with the simulator: what may be written and how, the
// same for MQTT W requests (handleMqttRequest, raw bytes as the broker link hands them over)
// and for flows (writeLiteral, as gx-write calls it). Issues 11 #9–#11, 14 #2, #3, #9, #13, #14.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Variant } from 'dbus-next';
import { startEngineFixture, EngineFixture, PORTAL, waitUntil } from '../support/engine-fixture';
import { RawService } from '../support/raw-service';
import { literalFromJs } from '../../src/bridge/json-literal';
import type { WriteResult } from '../../src/bridge/engine';
import type { SimService } from '../../src/sim';

let fx: EngineFixture;
let settings: SimService;
let raw: RawService;
const SETTINGS = 'com.victronenergy.settings';

before(async () => {
  fx = await startEngineFixture({
    beforeStart: async (sim) => {
      await sim.addService({ name: SETTINGS, paths: {
        '/Settings/CGwacs/Hub4Mode': { type: 'i', value: 1, min: 0, max: 3 },
        '/Settings/CGwacs/AcPowerSetPoint': { type: 'd', value: 50, min: -1000000, max: 1000000 },
        '/Settings/CGwacs/MaxFeedInPower': { type: 'd', value: -1, min: -1, max: null },
        '/Settings/Broken/MinAboveMax': { type: 'i', value: 5, min: 10, max: 3 },
        '/Settings/NoLimits/ZeroZero': { type: 'i', value: 5, min: 0, max: 0 },
        '/Settings/SystemSetup/SystemName': { type: 's', value: '' },
        '/Settings/Ble/Service/Pincode': { type: 's', value: '000000' },
        '/Settings/Big': { type: 'x', value: '0' },
        '/Settings/Count': { type: 'u', value: 1 },
        '/Settings/List': { type: 'ai', value: [1] },
      } });
      await sim.addService({ name: 'com.victronenergy.vebus.ttyO1', paths: {
        '/DeviceInstance': { type: 'i', value: 257 }, '/Mode': { type: 'u', value: 3 } } });
    },
  });
  settings = fx.sim.service(SETTINGS)!;
  // bounds of another type than the value, which the simulator does not make
  raw = new RawService('com.victronenergy.hub4');
  raw.items = {
    '/DoubleWithIntRange': { Value: new Variant('d', 1.5), Min: new Variant('i', 0), Max: new Variant('i', 10) },
    '/IntWithDoubleRange': { Value: new Variant('i', 1), Min: new Variant('d', 0.5), Max: new Variant('d', 2.5) },
  };
  await raw.connect(fx.bus.address);
  await fx.waitService('com.victronenergy.hub4');
});

after(async () => {
  raw?.disconnect();
  await fx?.close();
});

const S = (path: string) => ({ type: 'settings', instance: '0', path });

/** A W request as the broker link hands it over; resolves with its write result. */
async function mqttWrite(t: string, payload: string | Buffer): Promise<WriteResult> {
  const topic = `W/${PORTAL}/${t}`;
  const seen = fx.writes.length;
  fx.engine.handleMqttRequest(topic, typeof payload === 'string' ? Buffer.from(payload) : payload, false);
  await waitUntil(() => fx.writes.slice(seen).some((w) => w.topic === topic), 5000, `a result for ${topic}`);
  return fx.writes.slice(seen).find((w) => w.topic === topic)!;
}

function flowWrite(t: { type: string; instance: string; path: string }, value: unknown): Promise<WriteResult> {
  return fx.engine.writeLiteral(t, literalFromJs(value), 'flow');
}

const writesTo = (svc: SimService, path: string) => svc.writes.filter((w) => w.path === path);

test('min/max: a value outside the advertised range is refused before D-Bus, from MQTT and flows (issue 11 #9)', async () => {
  const before = writesTo(settings, '/Settings/CGwacs/Hub4Mode').length;
  const w = await mqttWrite('settings/0/Settings/CGwacs/Hub4Mode', '{"value":7}');
  assert.equal(w.ok, false);
  assert.equal(w.error, "7 is outside 0…3 (the item's min/max)");
  const f = await flowWrite(S('/Settings/CGwacs/Hub4Mode'), -1);
  assert.equal(f.error, "-1 is outside 0…3 (the item's min/max)");
  assert.match(fx.logs.join('\n'), /Hub4Mode refused: 7 is outside 0…3 \(the item's min\/max\)/);
  assert.equal(writesTo(settings, '/Settings/CGwacs/Hub4Mode').length, before, 'nothing reached the service');
  assert.equal((await mqttWrite('settings/0/Settings/CGwacs/Hub4Mode', '{"value":3}')).ok, true, 'the bound itself is inside');
  assert.equal(settings.getValue('/Settings/CGwacs/Hub4Mode')!.value, 3);
  assert.equal((await flowWrite(S('/Settings/CGwacs/AcPowerSetPoint'), 2e6)).error, "2000000.0 is outside -1000000.0…1000000.0 (the item's min/max)");
  // only a min (the max is invalid: null in the payload)
  assert.equal((await flowWrite(S('/Settings/CGwacs/MaxFeedInPower'), -2)).error, "-2.0 is below -1.0 (the item's min)");
  assert.equal((await flowWrite(S('/Settings/CGwacs/MaxFeedInPower'), 1e9)).ok, true);
  // broken ranges never block writes: min above max, or localsettings' 0/0 for "no limits"
  assert.equal((await flowWrite(S('/Settings/Broken/MinAboveMax'), 7)).ok, true);
  assert.equal((await flowWrite(S('/Settings/NoLimits/ZeroZero'), 42)).ok, true);
  // bounds of another type than the item compare exactly
  const hub4 = { type: 'hub4', instance: '0' };
  assert.equal((await flowWrite({ ...hub4, path: '/DoubleWithIntRange' }, 10.5)).error, "10.5 is outside 0…10 (the item's min/max)");
  assert.equal((await flowWrite({ ...hub4, path: '/DoubleWithIntRange' }, 10)).ok, true);
  assert.equal((await flowWrite({ ...hub4, path: '/IntWithDoubleRange' }, 3)).error, "3 is outside 0.5…2.5 (the item's min/max)");
  assert.equal((await flowWrite({ ...hub4, path: '/IntWithDoubleRange' }, 0)).error, "0 is outside 0.5…2.5 (the item's min/max)");
  assert.equal((await flowWrite({ ...hub4, path: '/IntWithDoubleRange' }, 2)).ok, true);
});

test('lossless conversions: "30" to a double setting, 12 to a string setting; lossy ones refused with the reason (issue 11 #10)', async () => {
  const w = await mqttWrite('settings/0/Settings/CGwacs/AcPowerSetPoint', '{"value":"30"}');
  assert.equal(w.ok, true, w.error);
  assert.equal(w.signature, 'd');
  assert.deepEqual(settings.getValue('/Settings/CGwacs/AcPowerSetPoint'), new Variant('d', 30));
  const s = await mqttWrite('settings/0/Settings/SystemSetup/SystemName', '{"value":12}');
  assert.equal(s.ok, true, s.error);
  assert.deepEqual(settings.getValue('/Settings/SystemSetup/SystemName'), new Variant('s', '12'));
  assert.equal((await flowWrite(S('/Settings/SystemSetup/SystemName'), 12.5)).ok, true);
  assert.equal(settings.getValue('/Settings/SystemSetup/SystemName')!.value, '12.5');
  assert.equal((await flowWrite(S('/Settings/CGwacs/Hub4Mode'), '2')).ok, true, 'numeric strings from flows too');
  assert.equal(settings.getValue('/Settings/CGwacs/Hub4Mode')!.value, 2);
  const before = settings.writes.length;
  const refused: Array<[string, string, RegExp]> = [
    ['Settings/CGwacs/Hub4Mode', '{"value":12.5}', /number 12.5 to an int32 item: it has a fraction/],
    ['Settings/CGwacs/Hub4Mode', '{"value":"12.5"}', /string "12.5" to an int32 item: it has a fraction/],
    ['Settings/CGwacs/AcPowerSetPoint', '{"value":"1e400"}', /1e400 is beyond the range of a double/],
    ['Settings/CGwacs/Hub4Mode', '{"value":"0x10"}', /string "0x10" to an int32 item: it is not exactly a number/],
    ['Settings/CGwacs/AcPowerSetPoint', '{"value":" 30"}', /string " 30" to a double item: it is not exactly a number/],
    ['Settings/CGwacs/AcPowerSetPoint', '{"value":""}', /string "" to a double item: it is not exactly a number/],
    ['Settings/CGwacs/AcPowerSetPoint', '{"value":"NaN"}', /string "NaN" to a double item: it is not exactly a number/],
    ['Settings/CGwacs/Hub4Mode', '{"value":"9"}', /9 is outside 0…3/],
  ];
  for (const [p, payload, re] of refused) {
    const r = await mqttWrite(`settings/0/${p}`, payload);
    assert.equal(r.ok, false, payload);
    assert.match(r.error!, re, payload);
  }
  assert.equal(settings.writes.length, before, 'no lossy value reached the service');
});

test('an empty W payload (clearing a retained W) is no request: no write, no result, debug log at most (issue 11 #11)', async () => {
  const results = fx.writes.length;
  const calls = settings.writes.length;
  const logs = fx.logs.length;
  fx.engine.handleMqttRequest(`W/${PORTAL}/settings/0/Settings/CGwacs/Hub4Mode`, Buffer.alloc(0), false);
  fx.engine.handleMqttRequest(`W/${PORTAL}/settings/0/Settings/CGwacs/Hub4Mode`, Buffer.alloc(0), true);
  await mqttWrite('settings/0/Settings/CGwacs/Hub4Mode', '{"value":1}'); // a later write is handled after them
  assert.equal(fx.writes.length, results + 1);
  assert.equal(settings.writes.length, calls + 1);
  const lines = fx.logs.slice(logs).filter((l) => l.includes('Hub4Mode') && !l.includes('{"value":1}'));
  assert.ok(lines.every((l) => l.startsWith('debug ')), lines.join('\n'));
  assert.ok(!fx.logs.join('\n').includes('invalid JSON: unexpected end'), 'not taken for invalid JSON');
});

test('size: a 100 MB payload and a 40 MB string from a flow are refused before D-Bus; the connection stays (issue 14 #2)', async () => {
  const states: string[] = [];
  const onState = (s: string) => states.push(s);
  fx.engine.on('state', onState);
  try {
    const calls = settings.writes.length;
    const t0 = Date.now();
    const w = await mqttWrite('settings/0/Settings/SystemSetup/SystemName', Buffer.alloc(100 * 1024 * 1024, 0x7b));
    assert.match(w.error!, /the payload is 104857600 bytes, more than the 64 KiB a write request may have/);
    assert.ok(Date.now() - t0 < 2000, 'refused by its length, not parsed');
    const big = await flowWrite(S('/Settings/SystemSetup/SystemName'), 'x'.repeat(40 * 1024 * 1024));
    assert.match(big.error!, /a string of 41943040 bytes is longer than the 16 KiB a write may carry/);
    const many = await flowWrite(S('/Settings/List'), Array.from({ length: 100000 }, (_, i) => i));
    assert.match(many.error!, /more than 1024 array elements/);
    assert.equal(settings.writes.length, calls, 'nothing reached D-Bus');
    assert.deepEqual(states, [], 'the D-Bus connection was never dropped');
    assert.equal(fx.tracker.state, 'connected');
    assert.equal((await flowWrite(S('/Settings/SystemSetup/SystemName'), 'x'.repeat(16 * 1024))).ok, true, 'within the limit it is written');
  } finally {
    fx.engine.removeListener('state', onState);
  }
});

test('UTF-8: invalid bytes from MQTT and lone surrogates from flows are refused, never written as U+FFFD (issue 14 #3)', async () => {
  const calls = settings.writes.length;
  const bad = Buffer.concat([Buffer.from('{"value":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
  const w = await mqttWrite('settings/0/Settings/SystemSetup/SystemName', bad);
  assert.match(w.error!, /the payload is not valid UTF-8 \(byte 0xc3 at offset 10\)/);
  const f = await flowWrite(S('/Settings/SystemSetup/SystemName'), 'a\ud800b');
  assert.match(f.error!, /a string with a lone surrogate \\ud800 at index 1 \(not Unicode text, so not UTF-8\)/);
  const e = await mqttWrite('settings/0/Settings/SystemSetup/SystemName', '{"value":"\\udc00"}');
  assert.match(e.error!, /lone surrogate \\udc00/);
  assert.equal(settings.writes.length, calls);
  assert.equal((await mqttWrite('settings/0/Settings/SystemSetup/SystemName', '{"value":"Zürich ☀ 😀"}')).ok, true);
  assert.equal(settings.getValue('/Settings/SystemSetup/SystemName')!.value, 'Zürich ☀ 😀');
});

test('20 000 writes to one item: a few SetValue calls, in order, and the bus ends at the last one (issue 14 #9)', async () => {
  const path = '/Settings/CGwacs/AcPowerSetPoint';
  const calls = writesTo(settings, path).length;
  const results: WriteResult[] = [];
  const onResult = (r: WriteResult) => { if (r.path === path) results.push(r); };
  fx.engine.on('write-result', onResult);
  try {
    for (let i = 0; i < 20000; i++) {
      if (i % 2) fx.engine.handleMqttRequest(`W/${PORTAL}/settings/0${path}`, Buffer.from(`{"value":${i}}`), false);
      else void flowWrite(S(path), i); // flows and MQTT share the queue
    }
    await waitUntil(() => results.length === 20000, 20000, 'an outcome for every write');
    const sent = writesTo(settings, path).slice(calls).map((w) => w.value.value as number);
    assert.ok(sent.length >= 2 && sent.length < 100, `${sent.length} SetValue calls for 20 000 writes`);
    assert.deepEqual([...sent].sort((a, b) => a - b), sent, 'never an earlier value after a later one');
    assert.equal(sent[sent.length - 1], 19999, 'the last one requested is the last one written');
    assert.equal(settings.getValue(path)!.value, 19999);
    const superseded = results.filter((r) => r.superseded);
    assert.equal(superseded.length, 20000 - sent.length);
    assert.ok(superseded.every((r) => !r.ok && r.error === 'superseded by a newer write to the same item'));
    assert.equal(results.filter((r) => r.ok).length, sent.length);
  } finally {
    fx.engine.removeListener('write-result', onResult);
  }
});

test('the type field routes only to what it names: com.victronenergy.vebus.ttyUSB9.bogus goes nowhere, for R and W (issue 14 #13)', async () => {
  const vebus = fx.sim.service('com.victronenergy.vebus.ttyO1')!;
  const calls = vebus.writes.length;
  const bogus = await mqttWrite('com.victronenergy.vebus.ttyUSB9.bogus/257/Mode', '{"value":1}');
  assert.equal(bogus.error, "can't find a D-Bus service for com.victronenergy.vebus.ttyUSB9.bogus/257");
  fx.engine.handleMqttRequest(`W/${PORTAL}/vebus.ttyO1/257/Mode`, Buffer.from('{"value":1}'), false);
  await waitUntil(() => fx.logs.some((l) => l.includes("'vebus.ttyO1' is not a service type")));
  assert.equal(vebus.writes.length, calls, 'nothing written');
  assert.equal((await mqttWrite('com.victronenergy.vebus/257/Mode', '{"value":1}')).ok, true, 'com.victronenergy.<type> (I7)');
  assert.equal((await mqttWrite('com.victronenergy.vebus.ttyO1/257/Mode', '{"value":2}')).ok, true, "the service's own full name");
  assert.equal(vebus.getValue('/Mode')!.value, 2);
  await assert.rejects(fx.engine.read({ type: 'com.victronenergy.vebus.ttyUSB9.bogus', instance: '257', path: '/Mode' }), /can't find a D-Bus service/);
  assert.equal((await fx.engine.read({ type: 'vebus', busName: 'com.victronenergy.vebus.ttyO1', instance: '257', path: '/Mode' }))[0].value, 2);
  await assert.rejects(fx.engine.read({ type: 'vebus', busName: 'com.victronenergy.vebus.ttyO2', instance: '257', path: '/Mode' }), /can't find/);
});

test('hostile payloads: duplicate keys, deep nesting, huge integers, NUL; the masked setting is never echoed', async () => {
  const calls = settings.writes.length;
  const cases: Array<[string, string, RegExp]> = [
    ['Settings/CGwacs/Hub4Mode', '{"value":1,"value":2}', /the key "value" is there twice \(ambiguous\)/],
    ['Settings/List', `{"value":${'['.repeat(9)}1${']'.repeat(9)}}`, /arrays nested deeper than 8/],
    ['Settings/List', `{"value":${'['.repeat(70)}${']'.repeat(70)}}`, /nesting deeper than 64/],
    ['Settings/Big', `{"value":${'9'.repeat(300)}}`, /outside -9223372036854775808…9223372036854775807/],
    ['Settings/Big', `{"value":${'9'.repeat(5000)}}`, /longer than 400 characters/],
    ['Settings/Count', '{"value":-1}', /outside 0…4294967295/],
    ['Settings/SystemSetup/SystemName', '{"value":"a\\u0000b"}', /NUL character \(D-Bus strings cannot hold one\)/],
    ['Settings/CGwacs/Hub4Mode', '{"value":{"a":1}}', /cannot write object/],
  ];
  for (const [p, payload, re] of cases) assert.match((await mqttWrite(`settings/0/${p}`, payload)).error ?? 'written', re, payload.slice(0, 60));
  assert.equal(settings.writes.length, calls, 'none reached D-Bus');
  // the pincode: written, but its value appears nowhere
  const pin = await mqttWrite('settings/0/Settings/Ble/Service/Pincode', '{"value":"246810"}');
  assert.equal(pin.ok, true);
  assert.equal(pin.value, '******');
  const refusedPin = await mqttWrite('settings/0/Settings/Ble/Service/Pincode', '{"value":"864213\\u0000"}');
  assert.equal(refusedPin.error, 'the value does not fit a string item (not shown: masked setting)');
  const asText = await flowWrite(S('/Settings/Ble/Service/Pincode'), 97531);
  assert.equal(asText.value, '******');
  assert.equal(settings.getValue('/Settings/Ble/Service/Pincode')!.value, '97531');
  const everything = JSON.stringify(fx.writes) + fx.logs.join('\n') + JSON.stringify(fx.published);
  for (const secret of ['246810', '864213', '97531']) assert.ok(!everything.includes(secret), `${secret} leaked`);
});

test('int64: -9223372036854775808 reaches the bus exactly (issue 14 #14)', async () => {
  const w = await mqttWrite('settings/0/Settings/Big', '{"value":-9223372036854775808}');
  assert.equal(w.ok, true, w.error);
  assert.deepEqual(settings.getValue('/Settings/Big'), new Variant('x', -9223372036854775808n));
  assert.equal((await flowWrite(S('/Settings/Big'), 9223372036854775807n)).ok, true);
  assert.deepEqual(settings.getValue('/Settings/Big'), new Variant('x', 9223372036854775807n));
});

test('"only if idle" (the setpoint keeper\'s repeats): skipped while the item has a write in flight or waiting, never taking its place; write-queued names the writer, in queue order', async () => {
  const path = '/Settings/CGwacs/AcPowerSetPoint';
  const calls = writesTo(settings, path).length;
  const queued: Array<{ path: string; origin: string; writer?: object }> = [];
  const onQueued = (q: { path: string; origin: string; writer?: object }) => { if (q.path === path) queued.push(q); };
  fx.engine.on('write-queued', onQueued);
  const keeper = {};
  const repeat = (v: number) => fx.engine.writeLiteral(S(path), literalFromJs(v), 'flow', { writer: keeper, onlyIfIdle: true });
  try {
    const first = flowWrite(S(path), 101); // goes out at once
    const whileInFlight = repeat(1);
    const waiting = flowWrite(S(path), 102); // waits for 101
    const whileWaiting = repeat(2);
    const results = await Promise.all([first, whileInFlight, waiting, whileWaiting]);
    assert.deepEqual(results.map((r) => [r.ok, r.skipped, r.superseded]),
      [[true, undefined, undefined], [false, true, undefined], [true, undefined, undefined], [false, true, undefined]]);
    assert.equal(results[1].error, 'not written: the item has a write in flight or waiting');
    assert.deepEqual(writesTo(settings, path).slice(calls).map((w) => w.value.value), [101, 102], 'the skipped ones never reached the bus');
    const idle = await repeat(3);
    assert.equal(idle.ok, true, 'idle: written');
    assert.deepEqual(writesTo(settings, path).slice(calls).map((w) => w.value.value), [101, 102, 3]);
    assert.deepEqual(queued.map((q) => [q.origin, q.writer === keeper]), [['flow', false], ['flow', false], ['flow', true]],
      'one event per queued write, none for the skipped ones');
  } finally {
    fx.engine.removeListener('write-queued', onQueued);
  }
});
