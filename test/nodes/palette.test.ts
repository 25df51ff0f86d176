// The five nodes in the real Node-RED runtime (node-red-node-test-helper), against a private
// dbus-daemon with the simulator: inputs, outputs, status, errors to Catch nodes, close.
import { after, afterEach, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Variant } from 'dbus-next';
import { GxSimulator } from '../../src/sim';
import { startPrivateBus, PrivateBus } from '../support/dbus-daemon';
import { sleep, waitUntil } from '../support/engine-fixture';
import { collect, helper, NODES, withAdminServer } from '../support/nr-helper';

let bus: PrivateBus;
let sim: GxSimulator;
const P = 'nodetest0001';

before(async () => {
  bus = await startPrivateBus();
  sim = new GxSimulator({ address: bus.address });
  await sim.addService({ name: 'com.victronenergy.system', paths: { '/Serial': new Variant('s', P), '/Dc/Battery/Soc': new Variant('d', 80) } });
  await sim.addService({
    name: 'com.victronenergy.battery.ttyO0',
    paths: { '/DeviceInstance': new Variant('u', 256), '/Soc': new Variant('d', 80), '/Dc/0/Voltage': new Variant('d', 52.1) },
  });
  await sim.addService({
    name: 'com.victronenergy.settings',
    paths: {
      '/Settings/CGwacs/AcPowerSetPoint': { type: 'd', value: 50, min: -1000000, max: 1000000 },
      '/Settings/CGwacs/Hub4Mode': { type: 'i', value: 1, min: 0, max: 3 },
      '/Settings/Gui/Brightness': { type: 'i', value: 5 },
    },
  });
});

afterEach(async () => {
  await helper.unload();
});

after(async () => {
  await sim.stop();
  await bus.stop();
});

const cfg = (extra: object = {}) => ({ id: 'cfg', type: 'gx-config', dbusAddress: bus.address, ...extra });
const tab = { id: 'f1', type: 'tab' };
const catcher = { id: 'c1', type: 'catch', z: 'f1', wires: [['caught']] };
const caughtNode = { id: 'caught', type: 'helper', z: 'f1' };

async function connected(id = 'cfg') {
  const c = helper.getNode(id);
  await waitUntil(() => c.controller?.status?.text === 'connected', 5000, 'gx-config connected');
  return c;
}

test('gx-notify: changes matching the filter, current values at deploy, vanished services, status fan-out', async () => {
  await helper.load(NODES, [
    cfg(),
    { id: 'n1', type: 'gx-notify', server: 'cfg', filter: 'battery/+/Soc', when: 'always', initial: true, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ]);
  const got = collect(helper.getNode('out'));
  const statuses: any[] = [];
  helper.getNode('n1').on('call:status', (c: any) => statuses.push(c.args[0]));
  await connected();
  await waitUntil(() => got.length >= 1, 5000, 'the initial value');
  assert.equal(got[0].topic, `N/${P}/battery/256/Soc`);
  assert.equal(got[0].payload, 80);
  assert.deepEqual(got[0].gx, { service: 'com.victronenergy.battery.ttyO0', type: 'battery', instance: '256', path: '/Soc', portalId: P, cause: 'scan' });
  sim.service('com.victronenergy.battery.ttyO0')!.setValue('/Dc/0/Voltage', 53);
  sim.service('com.victronenergy.battery.ttyO0')!.setValue('/Soc', 81.5);
  await waitUntil(() => got.some((m) => m.payload === 81.5));
  assert.ok(got.every((m) => m.topic.endsWith('/Soc')), 'only what the filter matches');
  assert.equal(got.find((m) => m.payload === 81.5).gx.cause, 'change');
  await waitUntil(() => statuses.some((s) => s.fill === 'green' && s.shape === 'dot'));
});

test('gx-notify: only while kept alive (dbus-flashmq semantics), whole objects, changes only, vanish', async () => {
  await helper.load(NODES, [
    cfg(),
    { id: 'n1', type: 'gx-notify', server: 'cfg', filter: 'settings/#', when: 'alive', payloadMode: 'object', wires: [['out']] },
    { id: 'n2', type: 'gx-notify', server: 'cfg', filter: 'battery/#', when: 'always', changesOnly: true, wires: [['out2']] },
    { id: 'k', type: 'gx-keepalive', server: 'cfg', interval: 0, wires: [[]] },
    { id: 'out', type: 'helper' }, { id: 'out2', type: 'helper' },
  ]);
  const got = collect(helper.getNode('out'));
  const got2 = collect(helper.getNode('out2'));
  const c = await connected();
  const settings = sim.service('com.victronenergy.settings')!;
  settings.setValue('/Settings/Gui/Brightness', 6);
  await waitUntil(() => c.controller.engine.cache.services.get('com.victronenergy.settings').items.get('/Settings/Gui/Brightness').value === 6);
  await sleep(50);
  assert.equal(got.length, 0, 'nothing while not alive: ' + JSON.stringify(got));
  const n1Status: any[] = [];
  helper.getNode('n1').on('call:status', (c: any) => n1Status.push(c.args[0]));
  helper.getNode('k').receive({});
  await waitUntil(() => got.length >= 3);
  await waitUntil(() => n1Status.some((s) => s.text === 'alive' && s.fill === 'green'), 2000, 'gx-notify shows alive');
  const sp = got.find((m) => m.topic === `N/${P}/settings/0/Settings/CGwacs/AcPowerSetPoint`);
  assert.deepEqual(sp.payload, { value: 50, min: -1000000, max: 1000000 });
  // changes only: a read that finds the same value emits nothing on n2
  await c.controller.engine.read({ type: 'battery', instance: '256', path: '/Soc' });
  await sleep(50); // flow messages are delivered asynchronously
  const before = got2.length;
  await c.controller.engine.read({ type: 'battery', instance: '256', path: '/Soc' });
  await sleep(50);
  assert.equal(got2.length, before);
  const def = sim.service('com.victronenergy.battery.ttyO0')!.snapshot();
  await sim.removeService('com.victronenergy.battery.ttyO0');
  await waitUntil(() => got2.filter((m) => m.gx.cause === 'vanish').length === 3);
  assert.ok(got2.filter((m) => m.gx.cause === 'vanish').every((m) => m.payload === null));
  await sim.addService(def);
});

test('gx-read: an item, a sub-tree, msg.topic only when the path is empty, errors to Catch nodes', async () => {
  await helper.load(NODES, [
    tab, cfg(),
    { id: 'r1', type: 'gx-read', z: 'f1', server: 'cfg', path: 'battery/256/Soc', wires: [['out']] },
    { id: 'r2', type: 'gx-read', z: 'f1', server: 'cfg', path: '', wires: [['out']] },
    { id: 'out', type: 'helper', z: 'f1' }, catcher, caughtNode,
  ]);
  const got = collect(helper.getNode('out'));
  const caught = collect(helper.getNode('caught'));
  await connected();
  sim.service('com.victronenergy.battery.ttyO0')!.setValue('/Soc', 77.5, { signal: false });
  const r1 = helper.getNode('r1');
  r1.receive({ payload: 'go' });
  await waitUntil(() => got.length === 1);
  assert.equal(got[0].payload, 77.5, 'read from D-Bus, not the cache (R2)');
  assert.equal(got[0].topic, `N/${P}/battery/256/Soc`);
  const r2 = helper.getNode('r2');
  r2.receive({ topic: `R/${P}/settings/0/Settings/CGwacs` });
  await waitUntil(() => got.length === 3);
  assert.deepEqual(got.slice(1).map((m) => m.gx.path).sort(), ['/Settings/CGwacs/AcPowerSetPoint', '/Settings/CGwacs/Hub4Mode']);
  r2.receive({ topic: 'nosuch/0/Thing' });
  r2.receive({ topic: 'R/otherportal/battery/256/Soc' });
  r2.receive({ topic: 'battery/256/No/Such' });
  await waitUntil(() => caught.length === 3);
  const errors = caught.map((m) => m.error.message).join('\n');
  assert.match(errors, /can't find a D-Bus service for nosuch\/0/);
  assert.match(errors, /portal ID 'otherportal'.*is not this GX's/);
  assert.match(errors, /GetValue on com.victronenergy.battery.ttyO0 \/No\/Such failed: .*UnknownObject/);
  assert.equal(got.length, 3, 'a failed read sends no message');
});

test('gx-write: typed by the item, result message, refusals to Catch nodes, write policy', async () => {
  await helper.load(NODES, [
    tab, cfg({ writePolicy: 'patterns', writePatterns: 'settings/0/Settings/CGwacs/#\nbattery/+/Soc' }),
    { id: 'w1', type: 'gx-write', z: 'f1', server: 'cfg', path: 'settings/0/Settings/CGwacs/AcPowerSetPoint', wires: [['out']] },
    { id: 'w2', type: 'gx-write', z: 'f1', server: 'cfg', path: '', wires: [['out']] },
    { id: 'out', type: 'helper', z: 'f1' }, catcher, caughtNode,
  ]);
  const got = collect(helper.getNode('out'));
  const caught = collect(helper.getNode('caught'));
  await connected();
  const w1 = helper.getNode('w1');
  w1.receive({ payload: 230 });
  await waitUntil(() => got.length === 1);
  assert.equal(got[0].payload.ok, true);
  assert.equal(got[0].payload.signature, 'd', '230 to a double setting goes as a double (#98, #158)');
  const settings = sim.service('com.victronenergy.settings')!;
  assert.deepEqual(settings.getValue('/Settings/CGwacs/AcPowerSetPoint'), new Variant('d', 230));
  w1.receive({ payload: { value: -40000 } });
  await waitUntil(() => got.length === 2);
  assert.equal(settings.getValue('/Settings/CGwacs/AcPowerSetPoint')!.value, -40000);
  const brightness = settings.getValue('/Settings/Gui/Brightness')!.value;
  w1.receive({ payload: '23,41' });
  const w2 = helper.getNode('w2');
  w2.receive({ topic: 'settings/0/Settings/CGwacs/Hub4Mode', payload: 2.5 });
  w2.receive({ topic: 'settings/0/Settings/Gui/Brightness', payload: 1 });
  await waitUntil(() => caught.length === 3);
  const errors = caught.map((m) => m.error.message).join('\n');
  assert.match(errors, /cannot write string "23,41" to a double item: it is not exactly a number/);
  assert.match(errors, /cannot write number 2.5 to an int32 item: it has a fraction/);
  assert.match(errors, /Brightness' is not allowed by the write policy/);
  assert.equal(settings.getValue('/Settings/Gui/Brightness')!.value, brightness, 'the refused write did not happen');
  assert.equal(got.filter((m) => m.payload.ok === false).length, 3, 'failures send a result message too');
});

test('gx-keepalive: keeps the engine alive, reports its own full_publish_completed, then suppresses', async () => {
  await helper.load(NODES, [
    cfg(),
    { id: 'k', type: 'gx-keepalive', server: 'cfg', interval: 0, suppress: true, echo: true, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ]);
  const got = collect(helper.getNode('out'));
  const c = await connected();
  const engine = c.controller.engine;
  const k = helper.getNode('k');
  k.receive({});
  await waitUntil(() => got.length === 1);
  assert.equal(got[0].topic, `N/${P}/full_publish_completed`);
  assert.match(got[0].payload['full-publish-completed-echo'], /^[0-9a-f]{16}$/);
  assert.ok(engine.alive);
  engine.keepaliveRequest(''); // somebody else's keep-alive: not ours, not reported
  k.receive({});
  await sleep(100);
  assert.equal(got.length, 1, 'the second keep-alive was suppress-republish');
  k.receive({ payload: { 'keepalive-options': [{ 'full-publish-completed-echo': 'mine' }] } });
  await sleep(1100);
  k.receive({ payload: '{"keepalive-options":[{"full-publish-completed-echo":"abc"}]}' });
  await sleep(100);
  assert.equal(got.length, 1, 'completions for tokens it did not create are not reported with echo on');
});

test('two gx-config nodes side by side: each node sees its own GX', async () => {
  const bus2 = await startPrivateBus();
  const sim2 = new GxSimulator({ address: bus2.address });
  await sim2.addService({ name: 'com.victronenergy.system', paths: { '/Serial': new Variant('s', 'secondgx0002') } });
  await sim2.addService({ name: 'com.victronenergy.battery.x', paths: { '/DeviceInstance': new Variant('i', 256), '/Soc': new Variant('d', 12) } });
  try {
    await helper.load(NODES, [
      cfg(), { id: 'cfg2', type: 'gx-config', dbusAddress: bus2.address },
      { id: 'r1', type: 'gx-read', server: 'cfg', path: 'battery/256/Soc', wires: [['out']] },
      { id: 'r2', type: 'gx-read', server: 'cfg2', path: 'battery/256/Soc', wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    const got = collect(helper.getNode('out'));
    await connected('cfg');
    await connected('cfg2');
    helper.getNode('r1').receive({});
    helper.getNode('r2').receive({});
    await waitUntil(() => got.length === 2);
    const byPortal = Object.fromEntries(got.map((m) => [m.gx.portalId, m.payload]));
    assert.equal(byPortal.secondgx0002, 12);
    assert.equal(typeof byPortal[P], 'number');
    assert.notEqual(byPortal[P], 12);
  } finally {
    await helper.unload();
    await sim2.stop();
    await bus2.stop();
  }
});

test('no config node, a broken config: red status and errors, Node-RED keeps running', async () => {
  await helper.load(NODES, [
    tab, { id: 'bad', type: 'gx-config', dbusAddress: 'not an address' },
    { id: 'r1', type: 'gx-read', z: 'f1', path: 'battery/256/Soc', wires: [[]] },
    { id: 'r2', type: 'gx-read', z: 'f1', server: 'bad', path: 'battery/256/Soc', wires: [[]] },
    catcher, caughtNode,
  ]);
  const caught = collect(helper.getNode('caught'));
  helper.getNode('r1').receive({});
  helper.getNode('r2').receive({});
  await waitUntil(() => caught.length === 2);
  assert.match(caught.map((m) => m.error.message).join('\n'), /no GX config node is selected/);
  assert.match(caught.map((m) => m.error.message).join('\n'), /its GX config node has an error: not a D-Bus address/);
});

test('the D-Bus goes away: nodes go red ring, yellow ring, then green dot again', async () => {
  const bus3 = await startPrivateBus();
  const sim3 = new GxSimulator({ address: bus3.address });
  await sim3.addService({ name: 'com.victronenergy.system', paths: { '/Serial': new Variant('s', 'faultgx00003') } });
  try {
    await helper.load(NODES, [
      { id: 'cfg3', type: 'gx-config', dbusAddress: bus3.address },
      { id: 'n', type: 'gx-notify', server: 'cfg3', wires: [[]] },
    ]);
    const statuses: any[] = [];
    helper.getNode('n').on('call:status', (c: any) => statuses.push(c.args[0]));
    await connected('cfg3');
    statuses.length = 0;
    await bus3.restart();
    await waitUntil(() => statuses.some((s) => s.fill === 'red' && s.shape === 'ring'), 5000, 'red ring');
    const again = new GxSimulator({ address: bus3.address });
    await again.addService({ name: 'com.victronenergy.system', paths: { '/Serial': new Variant('s', 'faultgx00003') } });
    await waitUntil(() => statuses.length > 0 && statuses[statuses.length - 1].fill === 'green', 10000, 'green again');
    const seq = statuses.map((s) => `${s.fill}-${s.shape}`);
    assert.ok(seq.indexOf('red-ring') < seq.lastIndexOf('yellow-ring') && seq.lastIndexOf('yellow-ring') < seq.lastIndexOf('green-dot'), seq.join(' '));
    await again.stop();
  } finally {
    await helper.unload();
    await sim3.stop();
    await bus3.stop();
  }
});

test('admin endpoint lists live paths for the editors; unknown config ids are 404', async () => {
  await withAdminServer(async () => {
    await helper.load(NODES, [cfg()]);
    await connected();
    const res = await helper.request().get('/gx-config/cfg/items').expect(200);
    const paths = res.body.items.map((i: { path: string }) => i.path);
    assert.ok(paths.includes('battery/256/Soc'), paths.join(','));
    assert.equal(res.body.portalId, P);
    assert.equal(res.body.total, paths.length);
    const q = await helper.request().get('/gx-config/cfg/items?q=cgwacs').expect(200);
    assert.equal(q.body.items.length, 2);
    assert.equal(q.body.total, 2);
    await helper.request().get('/gx-config/nope/items').expect(404);
  });
});

test('redeploys release everything: D-Bus connections, listeners and timers', async () => {
  const handles = () => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
  const baseline = handles();
  for (let i = 0; i < 10; i++) {
    await helper.load(NODES, [
      cfg(),
      { id: 'n1', type: 'gx-notify', server: 'cfg', wires: [[]] },
      { id: 'k', type: 'gx-keepalive', server: 'cfg', interval: 1, wires: [[]] },
    ]);
    await connected();
    await helper.unload();
  }
  await sleep(200);
  assert.ok(handles() <= baseline + 1, `active handles ${baseline} → ${handles()}`);
});

test('dozens of nodes on one GX config node: no "possible EventEmitter memory leak" warning in the log', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => { if (w.name === 'MaxListenersExceededWarning') warnings.push(w); };
  process.on('warning', onWarning);
  try {
    const nodes: object[] = [tab, cfg()];
    for (let i = 0; i < 25; i++) nodes.push({ id: `n${i}`, type: 'gx-notify', z: 'f1', server: 'cfg', filter: 'battery/+/Soc', wires: [[]] });
    for (let i = 0; i < 12; i++) {
      nodes.push({ id: `w${i}`, type: 'gx-write', z: 'f1', server: 'cfg', path: 'settings/0/Settings/CGwacs/AcPowerSetPoint', repeat: 30, wires: [[]] });
    }
    await helper.load(NODES, nodes);
    await connected();
    await sleep(50); // process warnings are emitted on the next tick
    assert.deepEqual(warnings.map((w) => w.message), []);
  } finally {
    process.removeListener('warning', onWarning);
  }
});
