// gx-notify: one message per real change, and "at most one message per path per N ms, newest
// value wins", in the real runtime against a private dbus-daemon with the simulator (services
// that signal every change twice, PropertiesChanged and ItemsChanged, as some do).
import { after, afterEach, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Variant } from 'dbus-next';
import { GxSimulator, SimService } from '../../src/sim';
import { startPrivateBus, PrivateBus } from '../support/dbus-daemon';
import { sleep, waitUntil } from '../support/engine-fixture';
import { collect, connectedConfig as connected, helper, NODES } from '../support/nr-helper';
import { RawService } from '../support/raw-service';

let bus: PrivateBus;
let sim: GxSimulator;
let battery: SimService;
let meters: SimService;
const P = 'notifytest01';
const MANY = 2000;

before(async () => {
  bus = await startPrivateBus();
  sim = new GxSimulator({ address: bus.address });
  await sim.addService({ name: 'com.victronenergy.system', paths: { '/Serial': new Variant('s', P) } });
  await sim.addService({
    name: 'com.victronenergy.battery.ttyO0',
    options: { signals: 'both' },
    paths: {
      '/DeviceInstance': new Variant('i', 256),
      '/Soc': { type: 'd', value: 50, decimals: 1, unit: '%' },
      '/Dc/0/Voltage': { type: 'd', value: 52, decimals: 2, unit: 'V' },
      '/Info/MaxChargeCurrent': { type: 'd', value: 100, min: 0, max: 200 },
    },
  });
  const paths: Record<string, unknown> = { '/DeviceInstance': new Variant('i', 40) };
  for (let i = 0; i < MANY; i++) paths[`/Meter/${i}/Power`] = { type: 'd', value: i };
  await sim.addService({ name: 'com.victronenergy.acload.many', paths });
  battery = sim.service('com.victronenergy.battery.ttyO0')!;
  meters = sim.service('com.victronenergy.acload.many')!;
});

afterEach(() => helper.unload());

after(async () => {
  await sim.stop();
  await bus.stop();
});

const cfg = () => ({ id: 'cfg', type: 'gx-config', dbusAddress: bus.address });
const values = (got: any[], path: string) => got.filter((m) => m.gx.path === path).map((m) => m.payload);

test('changes only (the default): a change signalled twice, a re-read of the whole service, a new text alone are no change', async () => {
  await helper.load(NODES, [
    cfg(),
    { id: 'n', type: 'gx-notify', server: 'cfg', filter: 'battery/256/#', initial: true, payloadMode: 'object', wires: [['out']] },
    { id: 'all', type: 'gx-notify', server: 'cfg', filter: 'battery/256/#', changesOnly: false, wires: [['every']] },
    { id: 'r', type: 'gx-read', server: 'cfg', path: 'battery/256/', wires: [[]] },
    { id: 'out', type: 'helper' }, { id: 'every', type: 'helper' },
  ]);
  const got = collect(helper.getNode('out'));
  const every = collect(helper.getNode('every'));
  await connected();
  await waitUntil(() => values(got, '/Soc').length === 1, 5000, 'the value at deploy');
  battery.setValue('/Soc', 51);
  battery.setValue('/Dc/0/Voltage', 52.5);
  await waitUntil(() => values(every, '/Soc').length >= 2 && values(every, '/Dc/0/Voltage').length >= 2, 5000,
    'each change twice (PropertiesChanged and ItemsChanged) on the node that sends every notification');
  // the same value again: from the re-read of the whole service (the cache sees it once more)
  helper.getNode('r').receive({});
  await waitUntil(() => every.some((m) => m.gx.cause === 'read' && m.gx.path === '/Soc'), 5000, 'the re-read');
  // a text change alone (the service says the same value differently)
  battery.setValue('/Soc', 51, { text: '51 percent' });
  battery.setValue('/Soc', 52);
  await waitUntil(() => values(got, '/Soc').some((p) => p.value === 52));
  assert.deepEqual(values(got, '/Soc').map((p) => p.value), [50, 51, 52], 'one message per change');
  assert.deepEqual(values(got, '/Dc/0/Voltage').map((p) => p.value), [52, 52.5]);
  assert.ok(values(every, '/Soc').length >= 5, `without "changes only" every notification: ${JSON.stringify(values(every, '/Soc'))}`);
  assert.deepEqual(values(got, '/Info/MaxChargeCurrent'), [{ value: 100, min: 0, max: 200 }]);
});

test('changes only: a change of min or max alone is a change, its repetition is not', async () => {
  const raw = new RawService('com.victronenergy.pump.raw');
  raw.items = {
    '/DeviceInstance': { Value: new Variant('i', 7), Text: new Variant('s', '7') },
    '/Setpoint': { Value: new Variant('d', 20), Text: new Variant('s', '20'), Min: new Variant('d', 0), Max: new Variant('d', 50) },
  };
  await raw.connect(bus.address);
  try {
    await helper.load(NODES, [
      cfg(),
      { id: 'n', type: 'gx-notify', server: 'cfg', filter: 'pump/7/Setpoint', initial: true, payloadMode: 'object', wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    const got = collect(helper.getNode('out'));
    await connected();
    await waitUntil(() => got.length === 1);
    const minOnly = [{ '/Setpoint': { Min: new Variant('d', 5) } }];
    raw.signal('/', 'ItemsChanged', 'a{sa{sv}}', minOnly);
    raw.signal('/', 'ItemsChanged', 'a{sa{sv}}', minOnly);
    raw.signal('/', 'ItemsChanged', 'a{sa{sv}}', [{ '/Setpoint': { Value: new Variant('d', 21), Text: new Variant('s', '21') } }]);
    await waitUntil(() => got.length >= 3);
    await sleep(50);
    assert.deepEqual(got.map((m) => m.payload), [{ value: 20, min: 0, max: 50 }, { value: 20, min: 5, max: 50 }, { value: 21, min: 5, max: 50 }]);
  } finally {
    raw.disconnect();
  }
});

test('rate limit: at most one message per path per window, the first at once, the newest at the end of a burst, paths independent', async () => {
  const WINDOW = 300;
  await helper.load(NODES, [
    cfg(),
    { id: 'n', type: 'gx-notify', server: 'cfg', filter: 'battery/256/#', rateLimit: WINDOW, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ]);
  // the time the node sends each message (the spy runs inside node.send), not when it arrives
  const got: Array<{ at: number; msg: any }> = [];
  helper.getNode('n').on('call:send', (c: any) => got.push({ at: performance.now(), msg: c.args[0] }));
  const engine = (await connected()).controller.engine;
  const start = 60;
  battery.setValue('/Soc', start);
  battery.flush();
  await waitUntil(() => got.some((g) => g.msg.payload === start), 5000, 'the first value at once');
  // a burst: 40 values of /Soc and one of the voltage, each its own pair of signals
  for (let i = 1; i <= 40; i++) {
    battery.setValue('/Soc', start + i);
    if (i === 20) battery.setValue('/Dc/0/Voltage', 53.25);
    battery.flush();
  }
  await waitUntil(() => got.some((g) => g.msg.payload === start + 40), 5000, 'the newest value of the burst');
  await waitUntil(() => helper.getNode('n').controller.throttledPaths === 0, 5000, 'every window closed once idle');
  const soc = got.filter((g) => g.msg.gx.path === '/Soc');
  const socValues = soc.map((g) => g.msg.payload);
  assert.equal(socValues[socValues.length - 1], start + 40, 'the last message has the newest value');
  assert.ok(socValues.length < 12, `the burst was thinned out: ${JSON.stringify(socValues)}`);
  assert.deepEqual([...socValues].sort((a, b) => a - b), socValues, 'values in the order they came, none older after a newer');
  for (let i = 1; i < soc.length; i++) {
    assert.ok(soc[i].at - soc[i - 1].at >= WINDOW - 5, `messages of one path ${Math.round(soc[i].at - soc[i - 1].at)} ms apart`);
  }
  assert.deepEqual(values(got.map((g) => g.msg), '/Dc/0/Voltage'), [53.25], 'another path has its own window');
  // idle: nothing held, no timer; a new value goes out as it arrives (in the engine's own update)
  let arrived = 0;
  engine.on('update', (u: any) => { if (u.item.path === '/Soc' && u.item.value === 20 && !arrived) arrived = performance.now(); });
  battery.setValue('/Soc', 20);
  await waitUntil(() => got.some((g) => g.msg.payload === 20));
  assert.ok(got.find((g) => g.msg.payload === 20)!.at - arrived < WINDOW / 2, 'no wait after an idle window');
});

test('rate limit over many paths: every path\'s newest value arrives, windows and timers are released when idle and on close', async () => {
  const handles = () => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
  await helper.load(NODES, [
    cfg(),
    { id: 'n', type: 'gx-notify', server: 'cfg', filter: 'acload/40/Meter/#', rateLimit: 1500, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ]);
  const byPath = new Map<string, number[]>();
  helper.getNode('out').on('input', (m: any) => {
    const list = byPath.get(m.gx.path) ?? [];
    list.push(m.payload);
    byPath.set(m.gx.path, list);
  });
  await connected();
  const notify = helper.getNode('n').controller;
  const wave = (base: number) => {
    for (let i = 0; i < MANY; i++) meters.setValue(`/Meter/${i}/Power`, base + i);
    meters.flush();
  };
  const newest = (base: number) => byPath.size === MANY && [...byPath.entries()].every(([p, v]) => v[v.length - 1] === base + Number(p.split('/')[2]));
  // three waves of changes to 2000 paths at once: the first goes out, the newest follows at the window's end
  wave(10000);
  wave(20000);
  wave(30000);
  await waitUntil(() => newest(30000), 15000, 'the newest value of every path');
  assert.ok(notify.throttledPaths <= MANY, `windows bounded by the paths: ${notify.throttledPaths}`);
  for (const [p, v] of byPath) {
    const i = Number(p.split('/')[2]);
    assert.equal(v[0], 10000 + i, `${p}: the first value at once`);
    assert.ok(v.length <= 3, `${p}: at most one message per window: ${JSON.stringify(v)}`);
    assert.deepEqual([...v].sort((a, b) => a - b), v, `${p}: never an older value after a newer one`);
  }
  await waitUntil(() => notify.throttledPaths === 0, 5000, 'idle: every window closed');
  const sent = [...byPath.values()].reduce((n, v) => n + v.length, 0);
  await sleep(200);
  assert.equal([...byPath.values()].reduce((n, v) => n + v.length, 0), sent, 'nothing more once idle');
  // close with values held: the timer goes with the node
  const baseline = handles();
  wave(40000);
  wave(50000);
  await waitUntil(() => newest(40000) && notify.throttledPaths === MANY, 10000, 'the next wave out, the one after held');
  await helper.unload();
  assert.equal(notify.throttledPaths, 0, 'close drops what was held');
  await sleep(50);
  assert.ok(handles() <= baseline, `no timer left after close: ${baseline} → ${handles()}`);
});
