// gx-write's setpoint keeper ("repeat every N s") in the real runtime against a private
// dbus-daemon with the simulator, counting the SetValue calls the simulated Multi receives:
// repeats happen and go through the write path; they stop on a stop message, on close, when
// the hold time passes without a new value, when the service or the GX goes away (and do not
// resume); each input restarts the hold time; a failing repeat is reported once.
import { after, afterEach, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Variant } from 'dbus-next';
import { GxSimulator, SimService } from '../../src/sim';
import { startPrivateBus, PrivateBus } from '../support/dbus-daemon';
import { sleep, waitUntil } from '../support/engine-fixture';
import { collect, connectedConfig as connected, helper, linesOf, NODES, statusesOf } from '../support/nr-helper';

let bus: PrivateBus;
let sim: GxSimulator;
const P = 'keepertest01';
const VEBUS = 'com.victronenergy.vebus.ttyO1';
const L1 = '/Hub4/L1/AcPowerSetpoint';
const L2 = '/Hub4/L2/AcPowerSetpoint';
const vebusDef = {
  name: VEBUS,
  paths: { '/DeviceInstance': new Variant('i', 257), [L1]: { type: 'd', value: 0 }, [L2]: { type: 'd', value: 0 } },
};

before(async () => {
  bus = await startPrivateBus();
  sim = new GxSimulator({ address: bus.address });
  await sim.addService({ name: 'com.victronenergy.system', paths: { '/Serial': new Variant('s', P) } });
  await sim.addService(vebusDef);
});

afterEach(() => helper.unload());

after(async () => {
  await sim.stop();
  await bus.stop();
});

const tab = { id: 'f1', type: 'tab' };
const cfg = (address = bus.address) => ({ id: 'cfg', type: 'gx-config', dbusAddress: address });
const catcher = { id: 'c1', type: 'catch', z: 'f1', wires: [['caught']] };
const caughtNode = { id: 'caught', type: 'helper', z: 'f1' };
const vebus = (): SimService => sim.service(VEBUS)!;
/** SetValue calls on a path of the simulated Multi from now on */
function counter(svc: () => SimService, path = L1): () => number {
  const start = svc().writes.length;
  return () => svc().writes.slice(start).filter((w) => w.path === path).length;
}
/** no SetValue on the path during `ms` (several repeat intervals) */
async function noWritesFor(count: () => number, ms: number): Promise<void> {
  const n = count();
  await sleep(ms);
  assert.equal(count(), n, 'no more writes');
}

test('repeats: the value is written again every N s through the write path, one result message; a null payload or msg.stop ends it', async () => {
  await helper.load(NODES, [
    tab, cfg(),
    { id: 'w', type: 'gx-write', z: 'f1', server: 'cfg', path: `vebus/257${L1}`, repeat: 0.1, hold: 30, wires: [['out']] },
    { id: 'out', type: 'helper', z: 'f1' }, catcher, caughtNode,
  ]);
  const out = collect(helper.getNode('out'));
  const caught = collect(helper.getNode('caught'));
  const statuses = statusesOf('w');
  await connected();
  const writes = counter(vebus);
  const w = helper.getNode('w');
  w.receive({ payload: -200, topic: 'ignored: the path is configured' });
  await waitUntil(() => writes() >= 5, 5000, 'the first write and four repeats');
  assert.ok(vebus().writes.filter((x) => x.path === L1).slice(-5).every((x) => x.value.value === -200 && x.value.signature === 'd' && x.result === 0));
  assert.equal(vebus().getValue(L1)!.value, -200);
  assert.equal(out.length, 1, 'one result message for the input, none per repeat');
  assert.equal(out[0].payload.ok, true);
  assert.match(statuses[statuses.length - 1].text, /^hold -200 → \d\d:\d\d(:\d\d)?$/, JSON.stringify(statuses));
  assert.equal(statuses[statuses.length - 1].fill, 'green');
  // a new value replaces the held one
  w.receive({ payload: -300 });
  await waitUntil(() => vebus().writes.filter((x) => x.path === L1).slice(-3).every((x) => x.value.value === -300), 5000);
  assert.match(statuses[statuses.length - 1].text, /^hold -300 → /);
  // stop with payload null: no write of null, a result message saying it stopped
  w.receive({ payload: null });
  await waitUntil(() => out.length === 3);
  assert.deepEqual(out[2].payload, { ok: true, stopped: 1, source: 'flow', topic: `W/${P}/vebus/257${L1}`, path: L1 });
  await noWritesFor(writes, 400);
  assert.equal(vebus().getValue(L1)!.value, -300, 'null was not written');
  assert.equal(statuses[statuses.length - 1].text, 'stopped');
  // msg.stop as well
  w.receive({ payload: 150 });
  await waitUntil(() => vebus().writes.filter((x) => x.path === L1 && x.value.value === 150).length >= 3);
  w.receive({ stop: true });
  await waitUntil(() => out.length === 5);
  assert.equal(out[4].payload.stopped, 1);
  await noWritesFor(writes, 400);
  assert.equal(caught.length, 0, 'no errors');
});

test('one hold per item: msg.topic holds L1 and L2 side by side; a stop names one item, or ends every hold; an option sends every repeat', async () => {
  await helper.load(NODES, [
    cfg(),
    { id: 'w', type: 'gx-write', server: 'cfg', path: '', repeat: 0.1, hold: 30, repeatOutput: true, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ]);
  const out = collect(helper.getNode('out'));
  const statuses = statusesOf('w');
  await connected();
  const l1 = counter(vebus, L1);
  const l2 = counter(vebus, L2);
  const w = helper.getNode('w');
  w.receive({ topic: `vebus/257${L1}`, payload: 100, id: 'one' });
  w.receive({ topic: `vebus/257${L2}`, payload: 200, id: 'two' });
  await waitUntil(() => l1() >= 4 && l2() >= 4, 5000);
  assert.match(statuses[statuses.length - 1].text, /^hold 2 items → /);
  const repeats = out.filter((m) => m.repeat !== undefined);
  assert.ok(repeats.length >= 4, 'with the option, a result message per repeat');
  assert.ok(repeats.every((m) => m.payload.ok && (m.id === 'one' ? m.payload.value === 100 : m.payload.value === 200)),
    'each refers to the message that started its hold');
  w.receive({ topic: `vebus/257${L1}`, stop: true });
  await waitUntil(() => out.some((m) => m.payload.stopped === 1));
  const n2 = l2();
  await noWritesFor(l1, 400);
  assert.ok(l2() > n2, 'L2 is still held');
  w.receive({ stop: true }); // names no item: every hold ends
  await waitUntil(() => out.some((m) => m.payload.stopped === 1 && m.payload.path === undefined));
  await noWritesFor(l2, 400);
});

test('the hold time: each input restarts it; without a new value it ends, with one warning, and the GX takes over', async () => {
  const HOLD = 3;
  await helper.load(NODES, [
    cfg(),
    { id: 'w', type: 'gx-write', server: 'cfg', path: `vebus/257${L1}`, repeat: 0.1, hold: HOLD, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ]);
  const statuses = statusesOf('w');
  const lines = linesOf(helper.getNode('w'));
  await connected();
  const writes = counter(vebus);
  const w = helper.getNode('w');
  const t0 = Date.now();
  // a new value every 0.5 s for 4 s: longer than the hold time, so only the restarts keep it
  for (let i = 0; i < 8; i++) {
    w.receive({ payload: -50 - i });
    await sleep(500);
  }
  assert.ok(!statuses.some((s) => s.text === 'hold expired'), `held while inputs come: ${JSON.stringify(statuses.map((s) => s.text))}`);
  const lastInput = Date.now() - 500;
  await waitUntil(() => statuses.some((s) => s.text === 'hold expired'), 10000, 'the hold expires');
  assert.ok(Date.now() - lastInput >= HOLD * 1000 - 100, 'not before the hold time after the last input');
  assert.ok(Date.now() - t0 > HOLD * 1000 + 1000, 'it outlived a single hold time');
  assert.equal(statuses[statuses.length - 1].fill, 'grey');
  await noWritesFor(writes, 400);
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0], /^warn no new value for 3 s: stopped repeating -57 to vebus\/257\/Hub4\/L1\/AcPowerSetpoint; the GX falls back/);
});

test('the service goes away: the hold ends (one warning) and does not resume when it comes back; close ends holds and their timers', async () => {
  await helper.load(NODES, [
    cfg(),
    { id: 'w', type: 'gx-write', server: 'cfg', path: `vebus/257${L1}`, repeat: 0.1, hold: 30, wires: [['out']] },
    { id: 'w2', type: 'gx-write', server: 'cfg', path: `vebus/257${L2}`, repeat: 0.1, hold: 30, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ]);
  const statuses = statusesOf('w');
  const lines = linesOf(helper.getNode('w'));
  await connected();
  const writes = counter(vebus);
  helper.getNode('w').receive({ payload: -100 });
  await waitUntil(() => writes() >= 3);
  await sim.removeService(VEBUS);
  await waitUntil(() => statuses.some((s) => s.text === 'device gone'), 5000);
  assert.match(lines.join('\n'), /stopped repeating -100 to vebus\/257\/Hub4\/L1\/AcPowerSetpoint: its service com.victronenergy.vebus.ttyO1 left the bus/);
  await sim.addService(vebusDef);
  const c = helper.getNode('cfg');
  await waitUntil(() => c.controller.engine.cache.route('vebus', '257') !== undefined, 5000, 'the Multi is back');
  const back = counter(vebus);
  await noWritesFor(back, 500);
  assert.equal(lines.length, 1, lines.join('\n'));
  // close (a redeploy) with a hold running
  const handles = () => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
  const baseline = handles();
  helper.getNode('w2').receive({ payload: 75 });
  const l2 = counter(vebus, L2);
  await waitUntil(() => l2() >= 3);
  await helper.unload();
  await noWritesFor(l2, 400);
  assert.ok(handles() <= baseline, `no timer left: ${baseline} → ${handles()}`);
});

test('the GX connection goes away: every hold ends and none resumes when it is back', async () => {
  const bus2 = await startPrivateBus();
  const sim2 = new GxSimulator({ address: bus2.address });
  let again: GxSimulator | undefined;
  try {
    await sim2.addService({ name: 'com.victronenergy.system', paths: { '/Serial': new Variant('s', 'keepertest02') } });
    await sim2.addService(vebusDef);
    await helper.load(NODES, [
      cfg(bus2.address),
      { id: 'w', type: 'gx-write', server: 'cfg', path: `vebus/257${L1}`, repeat: 0.1, hold: 30, wires: [[]] },
    ]);
    const lines = linesOf(helper.getNode('w'));
    await connected();
    const writes = counter(() => sim2.service(VEBUS)!);
    helper.getNode('w').receive({ payload: 42 });
    await waitUntil(() => writes() >= 3);
    // the daemon dies at once: the connection drops, no service says goodbye first
    await bus2.kill();
    await waitUntil(() => lines.some((l) => /the connection to the GX went away/.test(l)), 5000, lines.join(' / '));
    await bus2.restart();
    again = new GxSimulator({ address: bus2.address });
    await again.addService({ name: 'com.victronenergy.system', paths: { '/Serial': new Variant('s', 'keepertest02') } });
    await again.addService(vebusDef);
    await connected('cfg', 15000);
    // whichever simulator holds the Multi's name now (sim2 re-exports its services when its bus is back)
    const all = () => [sim2, again!].reduce((n, s) => n + (s.service(VEBUS)?.writes.filter((x) => x.path === L1).length ?? 0), 0);
    await noWritesFor(all, 500);
    assert.equal(lines.length, 1, lines.join('\n'));
  } finally {
    await helper.unload();
    await again?.stop();
    await sim2.stop();
    await bus2.stop();
  }
});

test('a failing repeat is reported once (result message, status, Catch), retried, and after three failures in a row the hold ends', async () => {
  await helper.load(NODES, [
    tab, cfg(),
    { id: 'w', type: 'gx-write', z: 'f1', server: 'cfg', path: `vebus/257${L1}`, repeat: 0.1, hold: 30, wires: [['out']] },
    { id: 'out', type: 'helper', z: 'f1' }, catcher, caughtNode,
  ]);
  const out = collect(helper.getNode('out'));
  const caught = collect(helper.getNode('caught'));
  const statuses = statusesOf('w');
  const lines = linesOf(helper.getNode('w'));
  const c = await connected();
  const writes = counter(vebus);
  helper.getNode('w').receive({ payload: -250, tag: 'start' });
  await waitUntil(() => writes() >= 2);
  // the repeats meet the write policy like any write: now it refuses them
  c.controller.engine.writePolicy = { mode: 'none' };
  await waitUntil(() => statuses.some((s) => s.text === 'hold failed'), 5000, 'the hold ends after three failures');
  const n = writes();
  await noWritesFor(writes, 400);
  assert.equal(writes(), n);
  assert.ok(statuses.some((s) => s.text === 'repeat failed' && s.fill === 'red'), JSON.stringify(statuses.map((s) => s.text)));
  const failed = out.filter((m) => m.payload.ok === false);
  assert.equal(failed.length, 1, 'one result message for the failures');
  assert.equal(failed[0].tag, 'start', 'it is the message that started the hold');
  assert.match(failed[0].payload.error, /write policy|read-only|not allowed/);
  assert.equal(caught.length, 1, 'Catch sees it once');
  assert.equal(caught[0].tag, 'start');
  assert.match(caught[0].error.message, /repeating -250 to vebus\/257\/Hub4\/L1\/AcPowerSetpoint failed/);
  assert.equal(lines.filter((l) => /stopped repeating -250 .* after 3 failed writes in a row/.test(l)).length, 1, lines.join('\n'));
  c.controller.engine.writePolicy = { mode: 'all' };
});

test('bad repeat settings: a red status, one error, and every input refused with a result message', async () => {
  await helper.load(NODES, [
    tab, cfg(),
    { id: 'w', type: 'gx-write', z: 'f1', server: 'cfg', path: `vebus/257${L1}`, repeat: 'often', wires: [['out']] },
    { id: 'w2', type: 'gx-write', z: 'f1', server: 'cfg', path: `vebus/257${L1}`, repeat: 30, hold: 10, wires: [['out']] },
    { id: 'out', type: 'helper', z: 'f1' }, catcher, caughtNode,
  ]);
  const out = collect(helper.getNode('out'));
  const caught = collect(helper.getNode('caught'));
  await connected();
  const writes = counter(vebus);
  helper.getNode('w').receive({ payload: 1 });
  helper.getNode('w2').receive({ payload: 1 });
  await waitUntil(() => caught.length === 2 && out.length === 2);
  assert.match(caught.map((m) => m.error.message).join('\n'), /"repeat every" must be a number of seconds/);
  assert.match(caught.map((m) => m.error.message).join('\n'), /"stop repeating after" must be a number of seconds from the repeat interval/);
  assert.ok(out.every((m) => m.payload.ok === false));
  assert.equal(writes(), 0, 'nothing written');
});
