// Writes end to end: gx-bridge against a real mosquitto, driven with mosquitto_pub (and an MQTT
// client where raw bytes or bursts are needed), watched with mosquitto_sub on S/# and N/#, on a
// private bus with the simulator. Write rules and S/ write replies (issues 11, 14, 15).
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as mqtt from 'mqtt';
import { Variant } from 'dbus-next';
import { GxSimulator, SimService } from '../../src/sim';
import { startPrivateBus, PrivateBus } from '../support/dbus-daemon';
import { publish, Received, startMosquitto, Broker, Subscriber } from '../support/mosquitto';
import { startBridge, BridgeProcess } from '../support/bridge-process';
import { sleep, waitUntil } from '../support/engine-fixture';

const P = 'writetest001';
const L = 'writelegacy1';
let bus: PrivateBus;
let broker: Broker;
let sim: GxSimulator;
let settings: SimService;
let vebus: SimService;
let bridge: BridgeProcess;
let legacy: BridgeProcess;
let sub: Subscriber;
let client: mqtt.MqttClient;

before(async () => {
  bus = await startPrivateBus();
  broker = await startMosquitto();
  sim = new GxSimulator({ address: bus.address });
  settings = await sim.addService({ name: 'com.victronenergy.settings', paths: {
    '/Settings/CGwacs/Hub4Mode': { type: 'i', value: 1, min: 0, max: 3 },
    '/Settings/CGwacs/AcPowerSetPoint': { type: 'd', value: 50, min: -1000000, max: 1000000 },
    '/Settings/SystemSetup/SystemName': { type: 's', value: '' },
    '/Settings/Ble/Service/Pincode': { type: 's', value: '000000' },
    '/Settings/System/ReadOnlyThing': { type: 'i', value: 1, readOnly: true },
    '/Settings/System/Vanishing': { type: 'i', value: 1 },
    '/Settings/Big': { type: 'x', value: '0' },
  } });
  vebus = await sim.addService({ name: 'com.victronenergy.vebus.ttyO1', paths: {
    '/DeviceInstance': { type: 'i', value: 257 }, '/Mode': { type: 'u', value: 3 } } });
  await sim.addService({ name: 'com.victronenergy.hub4', paths: { '/Locked': { type: 'i', value: 0 } } });
  sub = await new Subscriber(broker.port, ['S/#', 'N/#']).start();
  // every refusal of these tests is checked in the log: lift gx-bridge's flood limit of 20 lines per 10 s
  const common = ['--dbus', bus.address, '--broker', broker.url, '--write-policy', 'patterns', '--write-patterns', 'settings/#,vebus/#',
    '--log-limit', '100000'];
  bridge = await startBridge([...common, '--portal-id', P]);
  legacy = await startBridge([...common, '--portal-id', L, '--mode', 'legacy']);
  client = mqtt.connect(broker.url, { clientId: 'writes-test' });
  await new Promise<void>((resolve, reject) => { client.once('connect', () => resolve()); client.once('error', reject); });
});

after(async () => {
  client?.end(true);
  await bridge?.stop();
  await legacy?.stop();
  await sub?.stop();
  await sim?.stop();
  await broker?.stop();
  await bus?.stop();
});

const W = (t: string, payload: string, opts: { retain?: boolean } = {}, portal = P) => publish(broker.port, `W/${portal}/${t}`, payload, opts);
const onS = (t: string, portal = P) => (m: Received) => m.topic === `S/${portal}/${t}`;
const writesTo = (svc: SimService, path: string) => svc.writes.filter((w) => w.path === path).length;
/** Publishes raw bytes (or many payloads in one burst) with an MQTT client. */
function burst(topic: string, payloads: Array<string | Buffer>): Promise<void> {
  return new Promise((resolve) => {
    payloads.forEach((p, i) => client.publish(topic, p, { qos: 0 }, i === payloads.length - 1 ? () => resolve() : undefined));
  });
}

test('S/ replies: success with SetValue\'s code, a service\'s D-Bus error, each of our refusals, in both modes (issue 15)', async () => {
  sub.clear();
  const reply = async (t: string, value: string, serial: number, portal = P): Promise<string> => {
    await W(t, `{"value":${value},"serial":${serial},"caller_id":"MB2w7AtF"}`, {}, portal);
    return (await sub.waitFor((m) => onS(t, portal)(m) && m.payload.includes(`"serial":${serial}}`))).payload;
  };
  assert.equal(await reply('settings/0/Settings/CGwacs/Hub4Mode', '2', 123), '{"caller_id":"MB2w7AtF","return_code":0,"serial":123}');
  assert.equal(settings.getValue('/Settings/CGwacs/Hub4Mode')!.value, 2);
  assert.equal(await reply('settings/0/Settings/System/ReadOnlyThing', '5', 124), '{"caller_id":"MB2w7AtF","return_code":1,"serial":124}',
    'a non-zero code is a return_code, as in dbus-flashmq');
  settings.removePath('/Settings/System/Vanishing'); // still in the bridge's cache: SetValue gets a D-Bus error
  assert.equal(await reply('settings/0/Settings/System/Vanishing', '5', 125),
    '{"bus_error":"org.freedesktop.DBus.Error.UnknownObject","caller_id":"MB2w7AtF","serial":125}');
  const refusals: Array<[string, string, string]> = [
    ['hub4/0/Locked', '1', "'hub4/0/Locked' is not allowed by the write policy"],
    ['settings/0/Settings/CGwacs/Hub4Mode', '2.5', 'cannot write number 2.5 to an int32 item: it has a fraction'],
    ['settings/0/Settings/CGwacs/Hub4Mode', '7', "7 is outside 0…3 (the item's min/max)"],
    ['settings/0/Settings/SystemSetup/SystemName', `"${'x'.repeat(20000)}"`, 'a string of 20000 bytes is longer than the 16 KiB a write may carry'],
    ['settings/0/Settings/No/Such/Path', '1', '/Settings/No/Such/Path is not a known item of com.victronenergy.settings'],
    ['nosuch/0/Foo', '1', "can't find a D-Bus service for nosuch/0"],
    ['com.victronenergy.vebus.ttyUSB9.bogus/257/Mode', '1', "can't find a D-Bus service for com.victronenergy.vebus.ttyUSB9.bogus/257"],
    ['vebus/257/Bad-Path', '1', "'/Bad-Path' is not a valid D-Bus object path"],
  ];
  let serial = 200;
  for (const [t, value, why] of refusals) {
    assert.equal(await reply(t, value, ++serial), `{"bus_error":${JSON.stringify(why)},"caller_id":"MB2w7AtF","serial":${serial}}`, t);
  }
  // a missing value is answered too (its reply fields could be read)
  await W('settings/0/Settings/CGwacs/Hub4Mode', '{"serial":300,"caller_id":"x"}');
  assert.equal((await sub.waitFor((m) => m.payload.includes('"serial":300}'))).payload,
    `{"bus_error":"can't find 'value' in the JSON payload (expected {\\"value\\": …})","caller_id":"x","serial":300}`);
  // the same in legacy (dbus-mqtt) mode
  assert.equal(await reply('settings/0/Settings/CGwacs/Hub4Mode', '3', 400, L), '{"caller_id":"MB2w7AtF","return_code":0,"serial":400}');
  assert.equal(await reply('settings/0/Settings/CGwacs/Hub4Mode', '9', 401, L),
    '{"bus_error":"9 is outside 0…3 (the item\'s min/max)","caller_id":"MB2w7AtF","serial":401}');
  // superseded writes: a burst of 50 to one item, every serial answered once, the last one written
  const t = 'settings/0/Settings/CGwacs/AcPowerSetPoint';
  await burst(`W/${P}/${t}`, Array.from({ length: 50 }, (_, i) => `{"value":${i},"serial":${1000 + i},"caller_id":"burst"}`));
  await waitUntil(() => sub.messages.filter(onS(t)).length >= 50, 10000, '50 replies');
  const replies = sub.messages.filter(onS(t)).map((m) => JSON.parse(m.payload));
  assert.deepEqual(replies.map((r) => r.serial).sort(), Array.from({ length: 50 }, (_, i) => 1000 + i));
  assert.ok(replies.some((r) => r.bus_error === 'superseded by a newer write to the same item'));
  assert.deepEqual(replies.find((r) => r.serial === 1049), { caller_id: 'burst', return_code: 0, serial: 1049 });
  assert.equal(settings.getValue('/Settings/CGwacs/AcPowerSetPoint')!.value, 49);
  // QoS 0 and not retained: a new subscriber finds nothing on S/
  const late = await new Subscriber(broker.port, ['S/#'], true).start();
  await late.stop();
  assert.deepEqual(late.messages, []);
});

test('no S/ reply without both fields, for a bad serial, an oversized caller_id, or an unparsable payload (issue 15)', async () => {
  const t = 'settings/0/Settings/CGwacs/Hub4Mode';
  sub.clear();
  // each one is performed (waited for before the next), none answered
  const performed: Array<[string, number]> = [['{"value":1}', 1], ['{"value":2,"serial":5}', 2], ['{"value":3,"caller_id":"a"}', 3],
    ['{"value":1,"serial":"5","caller_id":"a"}', 1], ['{"value":2,"serial":5.5,"caller_id":"a"}', 2],
    [`{"value":3,"serial":5,"caller_id":"${'c'.repeat(1000)}"}`, 3]];
  for (const [payload, value] of performed) {
    await W(t, payload);
    await waitUntil(() => settings.getValue('/Settings/CGwacs/Hub4Mode')!.value === value, 5000, payload.slice(0, 40));
  }
  for (const payload of ['{"value":1,"value":2,"serial":6,"caller_id":"a"}', 'not json']) await W(t, payload);
  await W(t, '{"value":0,"serial":7,"caller_id":"marker"}');
  await sub.waitFor((m) => m.payload.includes('"marker"'));
  assert.deepEqual(sub.messages.filter((m) => m.topic.startsWith('S/')).map((m) => m.payload),
    ['{"caller_id":"marker","return_code":0,"serial":7}'], 'only the marker is answered');
  await bridge.waitOutput('Hub4Mode refused: invalid JSON: the key "value" is there twice (ambiguous)');
  // a megabyte caller_id cannot even be parsed: the payload is over the size limit
  const huge = `{"value":1,"serial":8,"caller_id":"${'m'.repeat(100 * 1024)}"}`;
  await W(t, huge);
  await bridge.waitOutput(`Hub4Mode refused: the payload is ${huge.length} bytes, more than the 64 KiB a write request may have`);
});

test('a masked setting: written, answered, and its value in no reply, log or notification', async () => {
  sub.clear();
  await publish(broker.port, `R/${P}/keepalive`, '{"keepalive-options":["suppress-republish"]}');
  await W('settings/0/Settings/Ble/Service/Pincode', '{"value":"246810","serial":1,"caller_id":"pin"}');
  assert.equal((await sub.waitFor(onS('settings/0/Settings/Ble/Service/Pincode'))).payload, '{"caller_id":"pin","return_code":0,"serial":1}');
  assert.equal((await sub.waitFor((m) => m.topic.endsWith('/Pincode') && m.topic.startsWith('N/'))).payload, '{"value":"******"}');
  await W('settings/0/Settings/Ble/Service/Pincode', '{"value":"864213\\u0000","serial":2,"caller_id":"pin"}');
  assert.equal((await sub.waitFor((m) => m.payload.includes('"serial":2}'))).payload,
    '{"bus_error":"the value does not fit a string item (not shown: masked setting)","caller_id":"pin","serial":2}');
  assert.equal(settings.getValue('/Settings/Ble/Service/Pincode')!.value, '246810');
  const seen = bridge.output() + sub.messages.map((m) => m.payload).join('\n');
  assert.ok(!seen.includes('246810') && !seen.includes('864213'), 'the pincode appears nowhere');
});

test('write rules over MQTT: min/max, lossless conversions, aliases (issues 11 #9, #10; 14 #13)', async () => {
  const hub4Mode = writesTo(settings, '/Settings/CGwacs/Hub4Mode');
  await W('settings/0/Settings/CGwacs/Hub4Mode', '{"value":7}');
  await bridge.waitOutput("Hub4Mode refused: 7 is outside 0…3 (the item's min/max)");
  assert.equal(writesTo(settings, '/Settings/CGwacs/Hub4Mode'), hub4Mode);
  await W('settings/0/Settings/CGwacs/AcPowerSetPoint', '{"value":"30"}');
  await waitUntil(() => settings.getValue('/Settings/CGwacs/AcPowerSetPoint')!.value === 30);
  assert.equal(settings.getValue('/Settings/CGwacs/AcPowerSetPoint')!.signature, 'd');
  await W('settings/0/Settings/SystemSetup/SystemName', '{"value":12}');
  await waitUntil(() => settings.getValue('/Settings/SystemSetup/SystemName')!.value === '12');
  await W('settings/0/Settings/CGwacs/Hub4Mode', '{"value":"12.5"}');
  await bridge.waitOutput('Hub4Mode refused: cannot write string "12.5" to an int32 item: it has a fraction');
  // a type field that names no service routes nowhere, for W and R
  const modeWrites = writesTo(vebus, '/Mode');
  sub.clear();
  await W('com.victronenergy.vebus.ttyUSB9.bogus/257/Mode', '{"value":1}');
  await publish(broker.port, `R/${P}/com.victronenergy.vebus.ttyUSB9.bogus/257/Mode`, '');
  await bridge.waitOutput("W/writetest001/com.victronenergy.vebus.ttyUSB9.bogus/257/Mode refused: can't find a D-Bus service for com.victronenergy.vebus.ttyUSB9.bogus/257");
  await bridge.waitOutput(/read R\/writetest001\/com\.victronenergy\.vebus\.ttyUSB9\.bogus\/257\/Mode failed: can't find a D-Bus service/);
  assert.equal(writesTo(vebus, '/Mode'), modeWrites);
  assert.deepEqual(sub.messages.filter((m) => m.topic.includes('/257/Mode')), [], 'no reply on N/');
  await W('com.victronenergy.vebus/257/Mode', '{"value":1}');
  await waitUntil(() => vebus.getValue('/Mode')!.value === 1);
  await W('com.victronenergy.vebus.ttyO1/257/Mode', '{"value":2}');
  await waitUntil(() => vebus.getValue('/Mode')!.value === 2);
});

test('clearing a retained W with an empty payload (mosquitto_pub -r -n) is silent and writes nothing (issue 11 #11)', async () => {
  const t = 'settings/0/Settings/CGwacs/Hub4Mode';
  settings.setValue('/Settings/CGwacs/Hub4Mode', 0, { signal: false });
  const before = writesTo(settings, '/Settings/CGwacs/Hub4Mode');
  const retainedLogged = bridge.output().length;
  await W(t, '{"value":3}', { retain: true }); // MQTT 5, retain-as-published: recognised and ignored (W8)
  await bridge.waitOutput(`ignored retained request on W/${P}/${t}`);
  assert.ok(bridge.output().slice(retainedLogged).includes('R/W requests must not be retained'));
  const logged = bridge.output().length;
  await W(t, '', { retain: true }); // what the README advises to clear it
  await W('settings/0/Settings/SystemSetup/SystemName', '{"value":"after the clear"}');
  await waitUntil(() => settings.getValue('/Settings/SystemSetup/SystemName')!.value === 'after the clear');
  assert.equal(writesTo(settings, '/Settings/CGwacs/Hub4Mode') - before, 0, 'neither the retained W nor its clearing was written');
  assert.equal(settings.getValue('/Settings/CGwacs/Hub4Mode')!.value, 0);
  const since = bridge.output().slice(logged);
  assert.ok(!since.includes('Hub4Mode'), since);
  const late = await new Subscriber(broker.port, [`W/${P}/#`], true).start();
  await late.stop();
  assert.deepEqual(late.messages, [], 'the retained W is gone from the broker');
});

test('a 40 MB value and bytes that are not UTF-8 are refused; the D-Bus connection stays (issues 14 #2, #3)', async () => {
  sub.clear();
  await publish(broker.port, `R/${P}/keepalive`, '{"keepalive-options":["suppress-republish"]}');
  const calls = settings.writes.length;
  const logged = bridge.output().length;
  // Over the 64 KiB request limit but under the packet size we announce: refused with the reason.
  const big = `{"value":"${'x'.repeat(100 * 1024)}"}`;
  await burst(`W/${P}/settings/0/Settings/SystemSetup/SystemName`, [big]);
  await bridge.waitOutput(`SystemName refused: the payload is ${big.length} bytes, more than the 64 KiB a write request may have`, 20000);
  // 40 MB: over the maximum packet size announced on MQTT 5, so the broker never delivers it.
  const huge = `{"value":"${'x'.repeat(40 * 1024 * 1024)}"}`;
  await burst(`W/${P}/settings/0/Settings/SystemSetup/SystemName`, [huge]);
  await burst(`W/${P}/settings/0/Settings/SystemSetup/SystemName`, [Buffer.concat([Buffer.from('{"value":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])]);
  await bridge.waitOutput('SystemName refused: the payload is not valid UTF-8 (byte 0xc3 at offset 10)');
  assert.equal(settings.writes.length, calls, 'nothing reached D-Bus');
  assert.ok(!/D-Bus (disconnected|connecting)/.test(bridge.output().slice(logged)), 'the D-Bus connection was never lost');
  assert.deepEqual(sub.messages.filter((m) => m.topic.startsWith('N/') && m.payload === ''), [], 'no service was blanked');
  await W('settings/0/Settings/SystemSetup/SystemName', '{"value":"Zürich"}');
  assert.equal((await sub.waitFor((m) => m.topic.endsWith('/SystemName'))).payload, '{"value":"Zürich"}');
});

test('int64: W {"value":-9223372036854775808} to an x item reaches the bus exactly and the notification shows it (issue 14 #14)', async () => {
  sub.clear();
  await publish(broker.port, `R/${P}/keepalive`, '{"keepalive-options":["suppress-republish"]}');
  await W('settings/0/Settings/Big', '{"value":-9223372036854775808}');
  const n = await sub.waitFor((m) => m.topic === `N/${P}/settings/0/Settings/Big`);
  assert.equal(n.payload, '{"value":-9223372036854775808}');
  assert.deepEqual(settings.getValue('/Settings/Big'), new Variant('x', -9223372036854775808n));
});

test('20 000 W to one item in a burst: bounded SetValue calls and memory, the bus ends at the last value (issue 14 #9)', async () => {
  const path = '/Settings/CGwacs/AcPowerSetPoint';
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${bridge.started.proc.pid}/status`, 'utf8'))![1]) * 1024;
  const rssBefore = rss();
  const calls = writesTo(settings, path);
  await burst(`W/${P}/settings/0${path}`, Array.from({ length: 20000 }, (_, i) => `{"value":${i}}`));
  await waitUntil(() => settings.getValue(path)!.value === 19999, 20000, 'the last value on the bus');
  await sleep(300);
  const sent = settings.writes.filter((w) => w.path === path).slice(calls).map((w) => w.value.value as number);
  assert.ok(sent.length < 2000, `${sent.length} SetValue calls for 20 000 writes`);
  assert.deepEqual([...sent].sort((a, b) => a - b), sent, 'in order');
  assert.equal(sent[sent.length - 1], 19999);
  const grown = rss() - rssBefore;
  assert.ok(grown < 64 * 1024 * 1024, `resident memory grew by ${Math.round(grown / 1024)} kB`);
});
