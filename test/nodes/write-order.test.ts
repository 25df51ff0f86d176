// The order of writes to one slow item, in the real runtime against a private dbus-daemon: the
// Multi's SetValue takes 300 ms, longer than the setpoint keeper's repeat interval, and new
// values arrive at awkward moments (just before a repeat is due, while one is on the bus, in
// bursts). gx-write never writes an old value after a newer one: not from its own hold, not
// over another node's value, not over an MQTT W. Superseded writes are reported on the output
// without being failures. Every check is on what the Multi received, in order.
import { after, afterEach, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Variant } from 'dbus-next';
import { GxSimulator } from '../../src/sim';
import { startPrivateBus, PrivateBus } from '../support/dbus-daemon';
import { sleep, waitUntil } from '../support/engine-fixture';
import { startMosquitto, publish } from '../support/mosquitto';
import { collect, connectedConfig as connected, helper, linesOf, NODES, statusesOf } from '../support/nr-helper';
import { ScriptedPeer } from '../support/scripted-peer';

let bus: PrivateBus;
let sim: GxSimulator;
let peer: ScriptedPeer;
const P = 'ordertest001';
const L1 = '/Hub4/L1/AcPowerSetpoint';
const L2 = '/Hub4/L2/AcPowerSetpoint';
const ITEM = `vebus/257${L1}`;
const SLOW_MS = 300;

before(async () => {
  bus = await startPrivateBus();
  sim = new GxSimulator({ address: bus.address });
  await sim.addService({ name: 'com.victronenergy.system', paths: { '/Serial': new Variant('s', P) } });
  peer = new ScriptedPeer('com.victronenergy.vebus.ttyO1');
  peer.items = { '/DeviceInstance': new Variant('i', 257), [L1]: new Variant('d', 0), [L2]: new Variant('d', 0) };
  peer.setValueDelayMs = SLOW_MS;
  await peer.connect(bus.address);
});

afterEach(() => helper.unload());

after(async () => {
  peer.disconnect();
  await sim.stop();
  await bus.stop();
});

const tab = { id: 'f1', type: 'tab' };
const cfg = (extra: object = {}) => ({ id: 'cfg', type: 'gx-config', dbusAddress: bus.address, ...extra });
const catcher = { id: 'c1', type: 'catch', z: 'f1', wires: [['caught']] };
const caughtNode = { id: 'caught', type: 'helper', z: 'f1' };
const writer = (id: string, extra: object = {}) =>
  ({ id, type: 'gx-write', z: 'f1', server: 'cfg', path: ITEM, repeat: 0.2, hold: 30, wires: [['out']], ...extra });

/** The values the Multi receives on L1 from now on, in the order SetValue arrives. */
function received(): () => number[] {
  const start = peer.received.length;
  return () => peer.received.slice(start).filter((w) => w.path === L1).map((w) => w.value as number);
}

/** No value arrives after a newer one: the inputs' order (`newer` oldest first) is never undone. */
function assertNeverOlderAfterNewer(values: number[], newer: number[]): void {
  const rank = (v: number) => {
    const i = newer.indexOf(v);
    assert.ok(i >= 0, `${v} was never sent`);
    return i;
  };
  for (let i = 1; i < values.length; i++) {
    assert.ok(rank(values[i]) >= rank(values[i - 1]), `${values[i]} written after the newer ${values[i - 1]}: ${values.join(', ')}`);
  }
}

async function waitForResults(out: any[], n: number): Promise<void> {
  await waitUntil(() => out.length >= n, 10000, `${n} result messages`);
}

async function loaded(flow: object[]): Promise<any> {
  await helper.load(NODES, flow);
  const c = await connected();
  await waitUntil(() => c.controller.engine.cache.route('vebus', '257') !== undefined, 5000, 'the Multi is known');
  return c;
}

/** A flow with one gx-write 'w' (a Catch node too), and what to watch on it. */
async function oneWriter(extra: object) {
  await loaded([tab, cfg(), writer('w', extra), { id: 'out', type: 'helper', z: 'f1' }, catcher, caughtNode]);
  return {
    out: collect(helper.getNode('out')), caught: collect(helper.getNode('caught')), statuses: statusesOf('w'),
    lines: linesOf(helper.getNode('w')), values: received(), w: helper.getNode('w'),
  };
}

test('one node: a repeat of the held value never follows a newer value nor takes its place (SetValue 300 ms, repeat every 0.2 s)', async () => {
  const { out, caught, statuses, lines, values, w } = await oneWriter({});
  const inputs: number[] = [];
  const input = (v: number) => { inputs.push(v); w.receive({ payload: v }); };
  input(-100);
  await waitForResults(out, 1);
  // a new value just before the hold's first repeat is due: the repeat would come while it is on the bus
  await sleep(150);
  input(-200);
  await waitForResults(out, 2);
  // a repeat of -200 is on the bus when the next value comes
  const n = values().length;
  await waitUntil(() => values().length > n, 5000, 'a repeat of -200');
  input(-300);
  await waitForResults(out, 3);
  // a burst just before the repeat is due: -400 goes out, -500 waits, -600 takes its place
  await sleep(150);
  input(-400);
  input(-500);
  input(-600);
  await waitForResults(out, 6);
  // the newest value is held: its repeats follow
  const m = values().length;
  await waitUntil(() => values().length >= m + 2, 5000, 'repeats of -600');
  assertNeverOlderAfterNewer(values(), inputs);
  assert.equal(values()[values().length - 1], -600);
  assert.equal(peer.items[L1].value, -600, 'the Multi is left at the newest value');
  assert.ok(values().includes(-100) && values().includes(-300), 'the values that were not superseded went out');
  const result = (v: number) => out.find((x) => x.payload.value === v)!.payload;
  for (const v of [-100, -200, -300, -400, -600]) assert.equal(result(v).ok, true, JSON.stringify(result(v)));
  assert.equal(values().filter((v) => v === -500).length, 0, '-500 was superseded before it went out');
  assert.deepEqual({ ok: result(-500).ok, superseded: result(-500).superseded, error: result(-500).error },
    { ok: false, superseded: true, error: 'superseded by a newer write to the same item' });
  assert.equal(caught.length, 0, 'a superseded write is no failure of the flow');
  assert.ok(!statuses.some((s) => s.fill === 'red'), JSON.stringify(statuses.map((s) => s.text)));
  assert.deepEqual(lines, []);
  assert.match(statuses[statuses.length - 1].text, /^hold -600 → /);
});

test('two nodes holding the same item: the newer value ends the other node\'s hold, and the older one is never written over it', async () => {
  await loaded([tab, cfg(), writer('a'), writer('b'), { id: 'out', type: 'helper', z: 'f1' }, catcher, caughtNode]);
  const out = collect(helper.getNode('out'));
  const caught = collect(helper.getNode('caught'));
  const statusA = statusesOf('a');
  const statusB = statusesOf('b');
  const linesA = linesOf(helper.getNode('a'));
  const linesB = linesOf(helper.getNode('b'));
  const values = received();
  helper.getNode('a').receive({ payload: -100 });
  await waitForResults(out, 1);
  // b's value comes while a's repeat is on the bus
  const n = values().length;
  await waitUntil(() => values().length > n, 5000, 'a repeat of -100');
  helper.getNode('b').receive({ payload: -200 });
  await waitForResults(out, 2);
  let m = values().length;
  await waitUntil(() => values().length >= m + 2, 5000, 'b repeats -200');
  assertNeverOlderAfterNewer(values(), [-100, -200]);
  assert.equal(statusA[statusA.length - 1].text, 'taken over');
  assert.match(statusB[statusB.length - 1].text, /^hold -200 → /);
  assert.equal(linesA.length, 1, linesA.join('\n'));
  assert.match(linesA[0], /^warn stopped repeating -100 to vebus\/257\/Hub4\/L1\/AcPowerSetpoint: another flow write \(another gx-write node\) wrote the item since/);
  // and back: a's value just before b's repeat is due
  await sleep(150);
  helper.getNode('a').receive({ payload: -300 });
  await waitForResults(out, 3);
  m = values().length;
  await waitUntil(() => values().length >= m + 2, 5000, 'a repeats -300');
  assertNeverOlderAfterNewer(values(), [-100, -200, -300]);
  assert.equal(values()[values().length - 1], -300);
  assert.equal(peer.items[L1].value, -300);
  assert.equal(statusB[statusB.length - 1].text, 'taken over');
  assert.match(statusA[statusA.length - 1].text, /^hold -300 → /);
  assert.equal(linesB.length, 1, linesB.join('\n'));
  assert.ok(out.every((x) => x.payload.ok === true), JSON.stringify(out.map((x) => x.payload)));
  assert.equal(caught.length, 0);
});

test('an MQTT W to a held item ends the hold: the keeper never writes its older value over it', async () => {
  const broker = await startMosquitto();
  try {
    const c = await loaded([tab, cfg({ broker: broker.url }), writer('w'), { id: 'out', type: 'helper', z: 'f1' }]);
    const engine = c.controller.engine;
    const mqttResults: any[] = [];
    engine.on('write-result', (r: any) => { if (r.source === 'mqtt') mqttResults.push(r); });
    // the bridge takes W requests once it has subscribed: an MQTT write to the other phase tells
    for (let i = 0; mqttResults.length === 0; i++) {
      assert.ok(i < 50, 'the bridge takes MQTT writes');
      await publish(broker.port, `W/${P}/vebus/257${L2}`, '{"value":5}');
      await sleep(200);
    }
    const out = collect(helper.getNode('out'));
    const statuses = statusesOf('w');
    const lines = linesOf(helper.getNode('w'));
    const values = received();
    const w = helper.getNode('w');
    w.receive({ payload: -100 });
    await waitForResults(out, 1);
    const n = values().length;
    await waitUntil(() => values().length > n, 5000, 'a repeat of -100');
    await publish(broker.port, `W/${P}/${ITEM}`, '{"value":-900}');
    await waitUntil(() => values().includes(-900), 5000, 'the MQTT value goes out');
    await sleep(1000); // five repeat intervals
    assertNeverOlderAfterNewer(values(), [-100, -900]);
    assert.equal(values()[values().length - 1], -900, `no repeat after the MQTT write: ${values().join(', ')}`);
    assert.equal(peer.items[L1].value, -900);
    assert.equal(statuses[statuses.length - 1].text, 'taken over');
    assert.match(lines.join('\n'), /stopped repeating -100 to vebus\/257\/Hub4\/L1\/AcPowerSetpoint: an MQTT write request \(W\/…\) wrote the item since/);
    // a new value and an MQTT W right after it: whichever reaches the queue last is left, and nothing is held over it
    w.receive({ payload: -150 });
    await publish(broker.port, `W/${P}/${ITEM}`, '{"value":-950}');
    await waitForResults(out, 2);
    await waitUntil(() => peer.items[L1].value === -950, 5000, 'the MQTT value is written last');
    const later = values().length;
    await sleep(1000);
    assert.equal(values().length, later, `nothing repeats -150 over -950: ${values().join(', ')}`);
    assertNeverOlderAfterNewer(values(), [-100, -900, -150, -950]);
    assert.ok(!/^hold/.test(statuses[statuses.length - 1].text), JSON.stringify(statuses.map((s) => s.text)));
  } finally {
    await helper.unload();
    await broker.stop();
  }
});

test('superseded writes without a repeat: reported on the output with superseded: true, no error, no red status; real failures stay failures', async () => {
  const { out, caught, statuses, lines, values, w } = await oneWriter({ repeat: '' });
  // a setpoint flow faster than the item: 1 goes out, 2 and 3 wait and give way to 4
  for (const v of [1, 2, 3, 4]) w.receive({ payload: v, tag: v });
  await waitForResults(out, 4);
  await waitUntil(() => peer.items[L1].value === 4, 5000);
  assert.deepEqual(values(), [1, 4]);
  const byTag = (t: number) => out.find((x) => x.tag === t)!.payload;
  assert.equal(byTag(1).ok, true);
  assert.equal(byTag(4).ok, true);
  for (const t of [2, 3]) {
    assert.equal(byTag(t).ok, false);
    assert.equal(byTag(t).superseded, true);
    assert.equal(byTag(t).error, 'superseded by a newer write to the same item');
    assert.equal(byTag(t).topic, `W/${P}/${ITEM}`);
  }
  assert.equal(caught.length, 0);
  assert.deepEqual(lines, []);
  assert.ok(!statuses.some((s) => s.fill === 'red'), JSON.stringify(statuses.map((s) => s.text)));
  assert.equal(statuses[statuses.length - 1].text, 'written 4');
  // a real failure is as before: the result, a red status and the error for Catch
  w.receive({ payload: 'not a number', tag: 5 });
  await waitUntil(() => caught.length === 1);
  assert.equal(byTag(5).ok, false);
  assert.equal(byTag(5).superseded, undefined);
  assert.equal(statuses[statuses.length - 1].text, 'write failed');
  assert.equal(statuses[statuses.length - 1].fill, 'red');
});
