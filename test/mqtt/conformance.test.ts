// gx-bridge against a real mosquitto, driven with mosquitto_sub / mosquitto_pub as Victron's
// documentation tells users to, on a private bus with the simulated ESS system
// (spec §5–8, §10, the scenarios of §11.3, and ../shared/oracle).
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { GxSimulator, loadFile } from '../../src/sim';
import { startPrivateBus, PrivateBus } from '../support/dbus-daemon';
import { publish, Received, startMosquitto, Broker, Subscriber } from '../support/mosquitto';
import { startBridge, BridgeProcess, DIST } from '../support/bridge-process';
import { sleep, waitUntil } from '../support/engine-fixture';

const P = 'c0619ab1f00d';
const SCENARIO = path.join(DIST, '..', 'test', 'fixtures', 'scenarios', 'ess-gx.json');

let bus: PrivateBus;
let broker: Broker;
let sim: GxSimulator;
let sub: Subscriber;
let bridge: BridgeProcess;
let itemCount = 0;

before(async () => {
  bus = await startPrivateBus();
  broker = await startMosquitto();
  sim = new GxSimulator({ address: bus.address });
  for (const def of loadFile(SCENARIO)) {
    await sim.addService(def);
    itemCount += Object.keys(def.paths).length;
  }
  sub = await new Subscriber(broker.port, ['N/#']).start();
  bridge = await startBridge(['--dbus', bus.address, '--broker', broker.url]);
});

after(async () => {
  await bridge?.stop();
  await sub?.stop();
  await sim?.stop();
  await broker?.stop();
  await bus?.stop();
});

const n = (t: string) => `N/${P}/${t}`;
const onTopic = (t: string) => (m: Received) => m.topic === n(t);
const R = (t: string, payload = '') => publish(broker.port, `R/${P}/${t}`, payload);
const W = (t: string, payload: string, opts: { retain?: boolean } = {}) => publish(broker.port, `W/${P}/${t}`, payload, opts);

/** Waits until full_publish_completed (number `count` since the last clear) and returns everything before it. */
async function fullPublish(count = 1): Promise<Received[]> {
  await waitUntil(() => sub.messages.filter(onTopic('full_publish_completed')).length >= count, 10000, 'full_publish_completed');
  return sub.messages;
}

test('start-up: the keepalive marker (plain 1, not retained) and the retained serial; nothing else while idle (K10, N7)', async () => {
  assert.match(bridge.output(), /gx-bridge ready: .*portal c0619ab1f00d, 7 services/);
  const marker = await sub.waitFor(onTopic('keepalive'));
  assert.equal(marker.payload, '1');
  assert.equal(marker.retain, false);
  const serial = await sub.waitFor(onTopic('system/0/Serial'));
  assert.equal(serial.payload, `{"value":"${P}"}`);
  // a new subscriber gets the serial as a retained message (live subscribers never see the flag)
  const late = await new Subscriber(broker.port, [n('#')], true).start();
  await late.stop();
  assert.deepEqual(late.messages.map((m) => [m.topic, m.retain]), [[n('system/0/Serial'), true]], 'the serial is the only retained topic');
  await sleep(300);
  assert.deepEqual(sub.messages.map((m) => m.topic).filter((t) => !t.endsWith('/keepalive') && !t.endsWith('/system/0/Serial')), []);
});

test('reads while not alive are answered, not retained; sub-trees one topic per leaf; trailing slash = whole service (R2, R3, R5)', async () => {
  sub.clear();
  await R('pvinverter/32/Ac/Power');
  const one = await sub.waitFor(onTopic('pvinverter/32/Ac/Power'));
  assert.match(one.payload, /^\{"value":-?\d+(\.\d+)?(e[+-]\d+)?\}$/);
  assert.equal(one.retain, false);
  sub.clear();
  await R('settings/0/Settings/CGwacs');
  await waitUntil(() => sub.messages.length >= 4);
  await sleep(100);
  assert.deepEqual(sub.messages.map((m) => m.topic).sort(), [
    n('settings/0/Settings/CGwacs/AcPowerSetPoint'), n('settings/0/Settings/CGwacs/BatteryLife/State'),
    n('settings/0/Settings/CGwacs/Hub4Mode'), n('settings/0/Settings/CGwacs/MaxFeedInPower')]);
  assert.equal(sub.messages.find(onTopic('settings/0/Settings/CGwacs/AcPowerSetPoint'))!.payload,
    '{"max":1000000.0,"min":-1000000.0,"value":50.0}', 'min/max known from the scan stay on sub-tree reads');
  sub.clear();
  await R('battery/256/');
  await waitUntil(() => sub.messages.length >= 51);
  await sleep(100);
  assert.equal(sub.messages.length, 51);
  assert.ok(sub.messages.every((m) => m.topic.startsWith(n('battery/256/')) && !m.retain));
});

test('an uncached leaf and an unknown path are not answered; the log says why (R4)', async () => {
  sim.service('com.victronenergy.battery.ttyO0')!.setValue('/Hidden/Leaf', 5, { signal: false });
  sub.clear();
  await R('battery/256/Hidden/Leaf');
  await R('battery/256/No/Such/Path');
  await R('nosuch/0/Foo');
  await bridge.waitOutput('R/c0619ab1f00d/nosuch/0/Foo');
  await bridge.waitOutput(/read R\/c0619ab1f00d\/battery\/256\/Hidden\/Leaf failed: .*not a sub-tree/);
  await bridge.waitOutput(/read R\/c0619ab1f00d\/battery\/256\/No\/Such\/Path failed: .*UnknownObject|no such|not exist/i);
  await sleep(200);
  assert.deepEqual(sub.messages, []);
});

test('a write while not alive reaches D-Bus but publishes nothing (W6, W7)', async () => {
  sub.clear();
  await W('vebus/257/Mode', '{"value": 3}');
  await waitUntil(() => sim.service('com.victronenergy.vebus.ttyO1')!.getValue('/Mode')!.value === 3);
  await sleep(200);
  assert.deepEqual(sub.messages, []);
});

test('bad writes publish nothing and each is logged with its topic and reason (§10, oracle 09)', async () => {
  sub.clear();
  const vebus = sim.service('com.victronenergy.vebus.ttyO1')!;
  const writesBefore = vebus.writes.length;
  const cases: Array<[string, string, RegExp]> = [
    ['vebus/257/Does/Not/Exist', '{"value": 1}', /Does\/Not\/Exist refused: \/Does\/Not\/Exist is not a known item/],
    ['nosuchservice/0/Foo', '{"value": 1}', /nosuchservice\/0\/Foo refused: can't find a D-Bus service for nosuchservice\/0/],
    ['vebus/257/Mode', 'not json', /vebus\/257\/Mode refused: invalid JSON/],
    ['vebus/257/Mode', '{"novalue": 1}', /vebus\/257\/Mode refused: can't find 'value'/],
    ['vebus/257/Mode', '{"value": {"a": 1}}', /vebus\/257\/Mode refused: cannot write object/],
    ['vebus/257/Mode', '{"value": NaN}', /vebus\/257\/Mode refused: invalid JSON/],
    ['vebus/257/Ac/ActiveIn/CurrentLimit', '{"value": "23,41"}', /CurrentLimit refused: cannot write string "23,41" to a double item: it is not exactly a number/],
    ['vebus/257/Mode', '{"value": 2.5}', /vebus\/257\/Mode refused: cannot write number 2.5 to an? \w+ item: it has a fraction/],
    ['settings/0/Settings/System/ReadOnlyThing', '{"value": 5}', /ReadOnlyThing refused: SetValue returned 1/],
    ['settings/0/Settings/System/PickyThing', '{"value": 5}', /PickyThing refused: SetValue returned 2/],
  ];
  for (const [t, p] of cases) await W(t, p);
  for (const [, , re] of cases) await bridge.waitOutput(re);
  assert.equal(vebus.writes.length, writesBefore, 'no refused write reached vebus');
  assert.deepEqual(sub.messages, [], 'nothing is published for bad input');
  // A retained W is never performed: on MQTT 5 (our default) it keeps its flag as it passes;
  // a bridge that subscribes later gets it flagged retained too (W8: dbus-mqtt performed it on
  // every reconnect). MQTT 3.1.1 is covered in retained-requests.test.ts.
  const modeBefore = vebus.getValue('/Mode')!.value;
  assert.notEqual(modeBefore, 4);
  await W('vebus/257/Mode', '{"value": 4}', { retain: true });
  await bridge.waitOutput(/ignored retained request on W\/c0619ab1f00d\/vebus\/257\/Mode/);
  const again = await startBridge(['--dbus', bus.address, '--broker', broker.url]);
  try {
    await again.waitOutput(/ignored retained request on W\/c0619ab1f00d\/vebus\/257\/Mode/);
    await sleep(200);
    assert.equal(vebus.getValue('/Mode')!.value, modeBefore, 'not performed');
  } finally {
    await again.stop();
    await publish(broker.port, `W/${P}/vebus/257/Mode`, '', { retain: true }); // clear it from the broker
  }
});

test('keep-alive: everything, then full_publish_completed, then the first heartbeat; writes and changes show while alive (K3, K7, W6)', async () => {
  sub.clear();
  await R('keepalive');
  const msgs = await fullPublish();
  const done = msgs.findIndex(onTopic('full_publish_completed'));
  const topics = new Set(msgs.slice(0, done).map((m) => m.topic));
  assert.equal(topics.size, itemCount - 1, 'every item but the blocked vebus Mk2 tunnel (the unanswered hidden leaf is not cached)');
  await sub.waitFor(onTopic('heartbeat'));
  assert.equal(msgs.findIndex(onTopic('heartbeat')), done + 1);
  assert.match(msgs[done].payload, /^\{"value":\d{10}\}$/);
  assert.ok(msgs.some(onTopic('system/0/Serial')));
  assert.equal(msgs.find(onTopic('settings/0/Settings/Ble/Service/Pincode'))!.payload, '{"value":"******"}');
  sub.clear();
  await W('settings/0/Settings/CGwacs/AcPowerSetPoint', '{"value": 100}');
  const fb = await sub.waitFor(onTopic('settings/0/Settings/CGwacs/AcPowerSetPoint'));
  assert.equal(fb.payload, '{"max":1000000.0,"min":-1000000.0,"value":100.0}', 'int 100 to a float setting (oracle 07)');
  await W('settings/0/Settings/SystemSetup/SystemName', '{"value": "Oracle test"}');
  assert.equal((await sub.waitFor(onTopic('settings/0/Settings/SystemSetup/SystemName'))).payload, '{"value":"Oracle test"}');
  await W('vebus/257/Ac/ActiveIn/CurrentLimit', '{"value": 16.5}');
  assert.equal((await sub.waitFor(onTopic('vebus/257/Ac/ActiveIn/CurrentLimit'))).payload, '{"value":16.5}');
});

test('suppress-republish, echo, rate limit of 3 per second, legacy serial keep-alive (K1, K4–K6)', async () => {
  sub.clear();
  await R('keepalive', '{ "keepalive-options" : ["suppress-republish"] }');
  await sleep(400);
  assert.equal(sub.messages.filter(onTopic('full_publish_completed')).length, 0);
  assert.ok(sub.messages.length < 50, 'no republish');
  sub.clear();
  await R('keepalive', '{"keepalive-options":[{"full-publish-completed-echo":"Ucq2YLVt6ZWdgUNf"}]}');
  const done = (await fullPublish()).find(onTopic('full_publish_completed'))!;
  assert.match(done.payload, /^\{"full-publish-completed-echo":"Ucq2YLVt6ZWdgUNf","value":\d{10}\}$/);
  await sleep(1100);
  sub.clear();
  await Promise.all([1, 2, 3, 4, 5].map((i) => R('keepalive', `{"keepalive-options":[{"full-publish-completed-echo":"burst-${i}"}]}`)));
  await fullPublish(3);
  await sleep(500);
  assert.equal(sub.messages.filter(onTopic('full_publish_completed')).length, 3, 'only 3 full republishes within one second');
  await sleep(1100);
  sub.clear();
  await R('system/0/Serial');
  await fullPublish();
  await waitUntil(() => sub.messages.filter(onTopic('system/0/Serial')).length >= 2);
  const idx = sub.messages.findIndex(onTopic('full_publish_completed'));
  assert.ok(sub.messages.slice(idx + 1).some(onTopic('system/0/Serial')), 'a separate serial read after the republish (K1)');
  sub.clear();
  await R('keepalive', '["vebus/#"]');
  const legacyPayload = (await fullPublish()).find(onTopic('full_publish_completed'))!;
  assert.match(legacyPayload.payload, /^\{"value":\d+\}$/, 'a legacy filter list is an ordinary full keep-alive (K11)');
  assert.ok(sub.messages.some((m) => m.topic.startsWith(n('battery/'))));
});

test('services appear and disappear while alive (oracle service-disappear / service-appear)', async () => {
  const pv = sim.service('com.victronenergy.pvinverter.cgwacs_ttyUSB0_di32_mb2')!;
  const def = pv.snapshot();
  sub.clear();
  await sim.removeService(pv.name);
  await waitUntil(() => sub.messages.filter((m) => m.topic.startsWith(n('pvinverter/32/'))).length >= 28);
  const gone = sub.messages.filter((m) => m.topic.startsWith(n('pvinverter/32/')));
  assert.equal(gone.length, 28);
  assert.ok(gone.every((m) => m.payload === '' && !m.retain));
  sub.clear();
  await sim.addService(def);
  await waitUntil(() => sub.messages.filter((m) => m.topic.startsWith(n('pvinverter/32/'))).length >= 28);
  assert.ok(sub.messages.filter((m) => m.topic.startsWith(n('pvinverter/32/'))).every((m) => m.payload.startsWith('{"value":')));
});

test('the heartbeat every 3 s while alive; expiry publishes nothing and stops it (K2, K7, K9)', async () => {
  const b2 = await startBridge(['--dbus', bus.address, '--broker', broker.url, '--portal-id', 'expirytest00', '--keepalive-seconds', '4']);
  const s2 = await new Subscriber(broker.port, ['N/expirytest00/#']).start();
  try {
    await publish(broker.port, 'R/expirytest00/keepalive', '{"keepalive-options":["suppress-republish"]}');
    await waitUntil(() => s2.messages.filter((m) => m.topic === 'N/expirytest00/heartbeat').length >= 2, 5000);
    const beats = s2.messages.filter((m) => m.topic === 'N/expirytest00/heartbeat');
    await sleep(2500); // past the 4 s window
    s2.clear();
    sim.service('com.victronenergy.battery.ttyO0')!.setValue('/Soc', 42.5);
    await sleep(3500);
    assert.deepEqual(s2.messages.map((m) => m.topic), [], 'no change, no null, no heartbeat after expiry');
    assert.ok(beats.length >= 2);
  } finally {
    await s2.stop();
    await b2.stop();
  }
});

test('gx-bridge exits cleanly on SIGTERM and says so', async () => {
  const b3 = await startBridge(['--dbus', bus.address, '--broker', broker.url, '--portal-id', 'exittest0000']);
  const exit = new Promise<number | null>((resolve) => b3.started.proc.once('exit', (code) => resolve(code)));
  b3.started.proc.kill('SIGTERM');
  assert.equal(await exit, 0);
  assert.match(b3.output(), /SIGTERM: closing/);
});
