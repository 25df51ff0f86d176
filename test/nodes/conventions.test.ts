// Node-RED conventions as a user meets them, in the real runtime against a private dbus-daemon
// with the simulator: a configured property wins over msg.*, secrets stay masked unless a node
// opts in, every gx-write failure gives a result message and one log line, reads never succeed
// with nothing, no message without a portal ID, redeploys during a write, short deduplicated
// statuses.
import { after, afterEach, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Variant } from 'dbus-next';
import { GxSimulator } from '../../src/sim';
import { startPrivateBus, PrivateBus } from '../support/dbus-daemon';
import { sleep, waitUntil } from '../support/engine-fixture';
import { collect, connectedConfig as connected, helper, NODES, statusesOf, withAdminServer } from '../support/nr-helper';
import { ScriptedPeer } from '../support/scripted-peer';
import { VANISH_REFUSED as VANISH_REFUSED_TEXT } from '../../src/nodes/write-controller';

let bus: PrivateBus;
let sim: GxSimulator;
const P = 'convtest0001';
const PIN = '999999';
const AP = 'ap-s3cret-pw';

before(async () => {
  bus = await startPrivateBus();
  sim = new GxSimulator({ address: bus.address });
  await sim.addService({ name: 'com.victronenergy.system', paths: { '/Serial': new Variant('s', P) } });
  await sim.addService({
    name: 'com.victronenergy.grid.cgwacs_ttyUSB0_di30_mb1',
    paths: { '/DeviceInstance': new Variant('i', 30), '/Ac/Power': { type: 'd', value: 1207, text: '1207W' }, '/ProductName': 'Grid meter' },
  });
  await sim.addService({
    name: 'com.victronenergy.vebus.ttyO1',
    paths: {
      '/DeviceInstance': new Variant('i', 257),
      '/ProductName': 'MultiPlus-II 48/5000',
      '/Hub4/L1/AcPowerSetpoint': { type: 'd', value: 0 },
      '/Hub4/L2/AcPowerSetpoint': { type: 'd', value: 0 },
      '/Interfaces/Mk2/Tunnel': { type: 'ai', value: [1, 2, 3] },
      '/Dc/0/Voltage': { type: 'd', value: 52.1, text: '52.10V' },
    },
  });
  await sim.addService({
    name: 'com.victronenergy.settings',
    paths: {
      '/Settings/Ble/Service/Pincode': { type: 's', value: PIN, text: PIN },
      '/Settings/Services/AccessPointPassword': { type: 's', value: AP, text: AP },
      '/Settings/CGwacs/Hub4Mode': { type: 'i', value: 3, min: 0, max: 3 },
    },
  });
});

afterEach(() => helper.unload());

after(async () => {
  await sim.stop();
  await bus.stop();
});

const tab = { id: 'f1', type: 'tab' };
const cfg = (extra: object = {}) => ({ id: 'cfg', type: 'gx-config', dbusAddress: bus.address, ...extra });
const catcher = { id: 'c1', type: 'catch', z: 'f1', wires: [['caught']] };
const caughtNode = { id: 'caught', type: 'helper', z: 'f1' };

test('gx-notify → function → gx-write: the configured path wins over the notification\'s msg.topic', async () => {
  const vebus = sim.service('com.victronenergy.vebus.ttyO1')!;
  const grid = sim.service('com.victronenergy.grid.cgwacs_ttyUSB0_di30_mb1')!;
  const writesBefore = { vebus: vebus.writes.length, grid: grid.writes.length };
  await helper.load(NODES, [
    tab, cfg(),
    { id: 'n', type: 'gx-notify', z: 'f1', server: 'cfg', filter: 'grid/30/Ac/Power', initial: true, wires: [['fn']] },
    { id: 'fn', type: 'function', z: 'f1', func: 'msg.payload = Math.round(msg.payload); return msg;', wires: [['w']] },
    { id: 'w', type: 'gx-write', z: 'f1', server: 'cfg', path: 'vebus/257/Hub4/L1/AcPowerSetpoint', wires: [['out']] },
    { id: 'out', type: 'helper', z: 'f1' },
  ]);
  const got = collect(helper.getNode('out'));
  await waitUntil(() => got.length >= 1, 5000, 'a write result');
  assert.equal(got[0].topic, `N/${P}/grid/30/Ac/Power`, 'the input message is kept');
  assert.equal(got[0].payload.ok, true, JSON.stringify(got[0].payload));
  assert.equal(got[0].payload.topic, `W/${P}/vebus/257/Hub4/L1/AcPowerSetpoint`);
  assert.equal(vebus.getValue('/Hub4/L1/AcPowerSetpoint')!.value, 1207);
  assert.deepEqual(vebus.writes.slice(writesBefore.vebus).map((w) => w.path), ['/Hub4/L1/AcPowerSetpoint']);
  assert.equal(grid.writes.length, writesBefore.grid, 'nothing was written to the grid meter');
});

test('gx-read: the configured path wins; msg.topic only when the path is empty; a wrong-typed msg.topic is an error', async () => {
  await helper.load(NODES, [
    tab, cfg(),
    { id: 'r1', type: 'gx-read', z: 'f1', server: 'cfg', path: 'vebus/257/Dc/0/Voltage', wires: [['out']] },
    { id: 'r2', type: 'gx-read', z: 'f1', server: 'cfg', path: '', payloadMode: 'object', wires: [['out']] },
    { id: 'out', type: 'helper', z: 'f1' }, catcher, caughtNode,
  ]);
  const got = collect(helper.getNode('out'));
  const caught = collect(helper.getNode('caught'));
  await connected();
  helper.getNode('r1').receive({ topic: `N/${P}/grid/30/Ac/Power` });
  await waitUntil(() => got.length === 1);
  assert.equal(got[0].gx.path, '/Dc/0/Voltage');
  assert.equal(got[0].payload, 52.1);
  helper.getNode('r2').receive({ topic: 'settings/0/Settings/CGwacs/Hub4Mode' });
  await waitUntil(() => got.length === 2);
  assert.deepEqual(got[1].payload, { value: 3, min: 0, max: 3 }, 'the payload mode is the node\'s');
  helper.getNode('r2').receive({ topic: 42 });
  helper.getNode('r2').receive({ payload: 'no topic' });
  await waitUntil(() => caught.length === 2);
  assert.match(caught[0].error.message, /msg.topic must be a string <type>\/<instance>\/<path>, not a number/);
  assert.match(caught[1].error.message, /no item: set a path in the node, or send msg.topic/);
});

test('secrets: the pincode and the access-point password are masked in gx-notify, gx-read and the admin API unless a node opts in', async () => {
  await withAdminServer(async () => {
    await helper.load(NODES, [
      tab, cfg(),
      { id: 'n', type: 'gx-notify', z: 'f1', server: 'cfg', filter: 'settings/0/Settings/#', initial: true, changesOnly: false, wires: [['masked']] },
      { id: 'nr', type: 'gx-notify', z: 'f1', server: 'cfg', filter: 'settings/0/Settings/#', initial: true, revealSecrets: true, wires: [['clear']] },
      { id: 'r', type: 'gx-read', z: 'f1', server: 'cfg', path: 'settings/0/Settings', wires: [['masked']] },
      { id: 'rr', type: 'gx-read', z: 'f1', server: 'cfg', path: 'settings/0/Settings/Ble/Service/Pincode', revealSecrets: true, wires: [['clear']] },
      { id: 'w', type: 'gx-write', z: 'f1', server: 'cfg', path: 'settings/0/Settings/Ble/Service/Pincode', wires: [['written']] },
      { id: 'masked', type: 'helper', z: 'f1' }, { id: 'clear', type: 'helper', z: 'f1' }, { id: 'written', type: 'helper', z: 'f1' },
    ]);
    const masked = collect(helper.getNode('masked'));
    const clear = collect(helper.getNode('clear'));
    const written = collect(helper.getNode('written'));
    await connected();
    await waitUntil(() => masked.length >= 3 && clear.length >= 3, 5000, 'the current values at deploy');
    const by = (list: any[], p: string) => list.filter((m) => m.gx.path === p).map((m) => m.payload);
    assert.deepEqual(by(masked, '/Settings/Ble/Service/Pincode'), ['******']);
    assert.deepEqual(by(masked, '/Settings/Services/AccessPointPassword'), ['******']);
    assert.deepEqual(by(clear, '/Settings/Ble/Service/Pincode'), [PIN], 'the opt-in shows it');
    assert.deepEqual(by(clear, '/Settings/Services/AccessPointPassword'), [AP]);
    // a masked write, then a read: never the value in clear (the user's report: "999999")
    masked.length = 0;
    helper.getNode('w').receive({ payload: '123456' });
    await waitUntil(() => written.length === 1);
    assert.equal(written[0].payload.value, '******');
    helper.getNode('r').receive({});
    await waitUntil(() => by(masked, '/Settings/Ble/Service/Pincode').length >= 2, 5000, 'the change and the read');
    assert.ok(masked.every((m) => !JSON.stringify(m).includes('123456') && !JSON.stringify(m).includes(AP)), JSON.stringify(masked));
    helper.getNode('rr').receive({});
    await waitUntil(() => clear.some((m) => m.gx.cause === 'read'));
    assert.equal(clear.find((m) => m.gx.cause === 'read').payload, '123456');
    // the admin API never shows them, and does not find them by their value either
    const all = await helper.request().get('/gx-config/cfg/items?q=settings/0/Settings&limit=1000').expect(200);
    const text = JSON.stringify(all.body);
    assert.ok(!text.includes('123456') && !text.includes(AP), text);
    const pin = all.body.items.find((i: any) => i.path === 'settings/0/Settings/Ble/Service/Pincode');
    assert.equal(pin.value, '******');
    assert.equal((await helper.request().get('/gx-config/cfg/items?q=123456').expect(200)).body.total, 0);
  });
});

test('admin item list: filter on path, value text and device name, offset/limit pages with a total, devices with their product name', async () => {
  await withAdminServer(async () => {
    await helper.load(NODES, [cfg()]);
    await connected();
    const get = async (q: string) => (await helper.request().get(`/gx-config/cfg/items${q}`).expect(200)).body;
    const everything = await get('?limit=1000');
    assert.ok(everything.total >= 11, JSON.stringify(everything.total));
    assert.equal(everything.items.length, everything.total);
    const page1 = await get('?limit=5');
    const page2 = await get('?limit=5&offset=5');
    assert.equal(page1.items.length, 5);
    assert.equal(page1.total, everything.total, 'the total counts every match, so the editor can say "N more"');
    assert.deepEqual([...page1.items, ...page2.items].map((i: any) => i.path), everything.items.slice(0, 10).map((i: any) => i.path));
    assert.equal((await get('')).limit, 100, 'a default page, not every item at once');
    assert.equal((await get('?limit=100000')).limit, 1000);
    const byText = await get('?q=52.10V');
    assert.deepEqual(byText.items.map((i: any) => [i.path, i.text]), [['vebus/257/Dc/0/Voltage', '52.10V']]);
    const byName = await get('?q=multiplus');
    assert.ok(byName.items.length >= 4 && byName.items.every((i: any) => i.device === 'vebus/257'), JSON.stringify(byName.items));
    assert.deepEqual(byName.devices, [{ device: 'vebus/257', service: 'com.victronenergy.vebus.ttyO1', name: 'MultiPlus-II 48/5000',
      kind: 'Inverter/charger', count: byName.total }]);
    assert.ok(!everything.items.some((i: any) => i.path.endsWith('/Interfaces/Mk2/Tunnel')), 'blocked paths are not offered (N6)');
  });
});

test('gx-write: every failure sends its result message and reaches Catch once; without Catch it is logged once', async () => {
  await helper.load(NODES, [
    tab, cfg(),
    { id: 'w', type: 'gx-write', z: 'f1', server: 'cfg', path: 'vebus/257/Hub4/L1/AcPowerSetpoint', wires: [['out']] },
    { id: 'wt', type: 'gx-write', z: 'f1', server: 'cfg', path: '', wires: [['out']] },
    { id: 'out', type: 'helper', z: 'f1' }, catcher, caughtNode,
  ]);
  const got = collect(helper.getNode('out'));
  const caught = collect(helper.getNode('caught'));
  await connected();
  const vebus = sim.service('com.victronenergy.vebus.ttyO1')!;
  const before = vebus.writes.length;
  const w = helper.getNode('w');
  const wt = helper.getNode('wt');
  w.receive({ payload: NaN });
  w.receive({ payload: Infinity });
  w.receive({ topic: 'no payload' });
  wt.receive({ topic: 'vebus/+/Hub4/L1/AcPowerSetpoint', payload: 1 });
  wt.receive({ topic: `W/otherportal/vebus/257/Hub4/L1/AcPowerSetpoint`, payload: 1 });
  wt.receive({ topic: 'vebus/257', payload: 1 });
  await waitUntil(() => got.length === 6 && caught.length === 6, 5000, 'six results and six errors');
  assert.ok(got.every((m) => m.payload.ok === false && typeof m.payload.error === 'string'), JSON.stringify(got.map((m) => m.payload)));
  const errors = got.map((m) => m.payload.error).join('\n');
  for (const re of [/NaN is not a number D-Bus can carry/, /Infinity is not a number D-Bus can carry/, /msg.payload is missing/,
    /wildcards are not allowed/, /portal ID 'otherportal'/, /is not <type>\/<instance>\/<path>/]) assert.match(errors, re);
  assert.equal(got[0].payload.topic, `W/${P}/vebus/257/Hub4/L1/AcPowerSetpoint`, 'the item is named when it is known');
  assert.equal(vebus.writes.length, before, 'nothing was written');
  for (const m of got) {
    const c = caught.find((x) => x._msgid === m._msgid);
    assert.ok(c && c.error.message.includes(m.payload.error), `the Catch node has the same failure: ${m.payload.error}`);
  }
});

test('gx-write: null is refused unless the node allows it; a vanish message is never written; MQTT {"value":null} still writes invalid', async () => {
  const L2 = '/Hub4/L2/AcPowerSetpoint';
  const TEMP = 'com.victronenergy.temperature.conv1';
  await helper.load(NODES, [
    tab, cfg(),
    // a mirror chain: whatever gx-notify sends goes to both writers, the vanish of the sensor too
    { id: 'n', type: 'gx-notify', z: 'f1', server: 'cfg', filter: 'temperature/24/Temperature', wires: [['w', 'wa']] },
    { id: 'w', type: 'gx-write', z: 'f1', server: 'cfg', path: `vebus/257${L2}`, wires: [['out']] },
    { id: 'wa', type: 'gx-write', z: 'f1', server: 'cfg', path: `vebus/257${L2}`, allowInvalid: true, wires: [['outa']] },
    { id: 'out', type: 'helper', z: 'f1' }, { id: 'outa', type: 'helper', z: 'f1' }, catcher, caughtNode,
  ]);
  const out = collect(helper.getNode('out'));
  const outa = collect(helper.getNode('outa'));
  const caught = collect(helper.getNode('caught'));
  const statuses = statusesOf('w');
  const c = await connected();
  const vebus = sim.service('com.victronenergy.vebus.ttyO1')!;
  const l2 = () => vebus.writes.filter((x) => x.path === L2);
  const isInvalid = (v: Variant) => v.signature === 'ai' && Array.isArray(v.value) && v.value.length === 0;
  // the sensor appears: its value is written by both; then it goes away
  await sim.addService({ name: TEMP, paths: { '/DeviceInstance': new Variant('i', 24), '/Temperature': { type: 'd', value: 21.5 } } });
  await waitUntil(() => out.length === 1 && outa.length === 1, 5000, 'the value is written');
  assert.ok(out[0].payload.ok && outa[0].payload.ok);
  await sim.removeService(TEMP);
  await waitUntil(() => out.length === 2 && outa.length === 2 && caught.length === 2, 5000, 'the vanish is refused by both');
  for (const m of [out[1], outa[1]]) {
    assert.equal(m.gx.cause, 'vanish');
    assert.deepEqual(m.payload, { ok: false, error: VANISH_REFUSED_TEXT, source: 'flow', topic: `W/${P}/vebus/257${L2}`, path: L2 });
  }
  assert.equal(statuses[statuses.length - 1].text, 'vanish not written');
  assert.ok(!l2().some((x) => isInvalid(x.value)), 'nothing invalid was written');
  assert.equal(vebus.getValue(L2)!.value, 21.5);
  // null from a flow, as it is or as {value: null}: refused without the option
  helper.getNode('w').receive({ payload: null });
  helper.getNode('w').receive({ payload: { value: null } });
  await waitUntil(() => out.length === 4 && caught.length === 4, 5000, 'two refusals');
  for (const m of out.slice(2)) {
    assert.equal(m.payload.ok, false);
    assert.match(m.payload.error, /^not written: null would write "invalid" .* tick "Allow writing invalid \(null\)" in this node/);
  }
  assert.match(caught[3].error.message, /null would write "invalid"/);
  assert.equal(statuses[statuses.length - 1].text, 'null not written');
  assert.equal(statuses[statuses.length - 1].fill, 'red');
  assert.ok(!l2().some((x) => isInvalid(x.value)), 'still nothing invalid written');
  // with the option it is written
  helper.getNode('wa').receive({ payload: null });
  await waitUntil(() => outa.length === 3);
  assert.equal(outa[2].payload.ok, true, JSON.stringify(outa[2].payload));
  assert.equal(outa[2].payload.signature, 'ai');
  assert.ok(isInvalid(vebus.getValue(L2)!));
  // MQTT keeps dbus-flashmq's meaning
  helper.getNode('wa').receive({ payload: 7 });
  await waitUntil(() => vebus.getValue(L2)!.value === 7);
  const n = l2().length;
  c.controller.engine.handleMqttRequest(`W/${P}/vebus/257${L2}`, '{"value":null}', false);
  await waitUntil(() => l2().length === n + 1, 5000, 'the MQTT write');
  assert.ok(isInvalid(vebus.getValue(L2)!));
  assert.equal(caught.length, 4);
});

test('a refused flow write is logged once (by the node), a refused MQTT write once (by the config node)', async () => {
  await helper.load(NODES, [
    tab, cfg({ writePolicy: 'none' }),
    { id: 'w', type: 'gx-write', z: 'f1', server: 'cfg', path: 'vebus/257/Hub4/L1/AcPowerSetpoint', wires: [['out']] },
    { id: 'out', type: 'helper', z: 'f1' },
  ]);
  const got = collect(helper.getNode('out'));
  const c = await connected();
  const configLines: string[] = [];
  for (const level of ['warn', 'error']) c.on(`call:${level}`, (x: any) => configLines.push(String(x.args[0])));
  const nodeErrors: string[] = [];
  helper.getNode('w').on('call:error', (x: any) => nodeErrors.push(String(x.args[0])));
  helper.getNode('w').receive({ payload: 100 });
  await waitUntil(() => got.length === 1 && nodeErrors.length >= 1);
  await sleep(100);
  assert.equal(got[0].payload.ok, false);
  assert.match(got[0].payload.error, /read-only write policy/);
  assert.equal(nodeErrors.length, 1, nodeErrors.join('\n'));
  assert.deepEqual(configLines, [], 'the config node does not log the flow write again');
  c.controller.engine.handleMqttRequest(`W/${P}/vebus/257/Hub4/L1/AcPowerSetpoint`, '{"value":100}', false);
  await waitUntil(() => configLines.length === 1);
  assert.match(configLines[0], /write W\/convtest0001\/vebus\/257\/Hub4\/L1\/AcPowerSetpoint refused: .*read-only/);
});

test('gx-read of an array item MQTT never publishes (vebus Mk2 Tunnel) gives its value; a read with no items is an error', async () => {
  const peer = new ScriptedPeer('com.victronenergy.odd.t1');
  peer.items = { '/DeviceInstance': new Variant('i', 7), '/Tree/Leaf': new Variant('d', 1) };
  peer.values = { '/Empty': new Variant('a{sv}', {}) };
  await peer.connect(bus.address);
  try {
    await helper.load(NODES, [
      tab, cfg(),
      { id: 'r', type: 'gx-read', z: 'f1', server: 'cfg', path: 'vebus/257/Interfaces/Mk2/Tunnel', wires: [['out']] },
      { id: 'r0', type: 'gx-read', z: 'f1', server: 'cfg', path: 'odd/7/Empty', wires: [['out']] },
      { id: 'out', type: 'helper', z: 'f1' }, catcher, caughtNode,
    ]);
    const got = collect(helper.getNode('out'));
    const caught = collect(helper.getNode('caught'));
    await connected();
    await waitUntil(() => helper.getNode('cfg').controller.engine.cache.route('odd', '7') !== undefined);
    const rStatus = statusesOf('r');
    helper.getNode('r').receive({});
    await waitUntil(() => got.length === 1);
    assert.deepEqual(got[0].payload, [1, 2, 3]);
    assert.equal(got[0].topic, `N/${P}/vebus/257/Interfaces/Mk2/Tunnel`);
    await waitUntil(() => rStatus.some((s) => s.text === '1 item'));
    const r0Status = statusesOf('r0');
    helper.getNode('r0').receive({});
    await waitUntil(() => caught.length === 1);
    assert.match(caught[0].error.message, /nothing to read at odd\/7\/Empty/);
    await waitUntil(() => r0Status.some((s) => s.fill === 'red' && s.text === 'read failed'));
    assert.equal(got.length, 1, 'no message for the empty read');
  } finally {
    peer.disconnect();
  }
});

test('no portal ID: one log line and a status that says to set it; no message with an empty portal anywhere; then it works', async () => {
  const bus2 = await startPrivateBus();
  const sim2 = new GxSimulator({ address: bus2.address });
  await sim2.addService({ name: 'com.victronenergy.battery.ttyO0', paths: { '/DeviceInstance': new Variant('i', 256), '/Soc': new Variant('d', 50) } });
  try {
    await helper.load(NODES, [
      tab, { id: 'cfg2', type: 'gx-config', dbusAddress: bus2.address, portalId: '' },
      { id: 'n', type: 'gx-notify', z: 'f1', server: 'cfg2', filter: '#', initial: true, wires: [['out']] },
      { id: 'r', type: 'gx-read', z: 'f1', server: 'cfg2', path: 'battery/256/Soc', wires: [['out']] },
      { id: 'w', type: 'gx-write', z: 'f1', server: 'cfg2', path: 'battery/256/Soc', wires: [['out']] },
      { id: 'k', type: 'gx-keepalive', z: 'f1', server: 'cfg2', interval: 0, wires: [['out']] },
      { id: 'out', type: 'helper', z: 'f1' }, catcher, caughtNode,
    ]);
    const got = collect(helper.getNode('out'));
    const caught = collect(helper.getNode('caught'));
    const c = helper.getNode('cfg2');
    const warnings: string[] = [];
    c.on('call:warn', (x: any) => warnings.push(String(x.args[0])));
    const nStatus = statusesOf('n');
    await waitUntil(() => c.controller.status.text === 'set the Portal ID', 5000, 'the status asks for the portal ID');
    assert.equal(c.controller.status.fill, 'red');
    await waitUntil(() => nStatus.some((s) => s.text === 'set the Portal ID'));
    helper.getNode('r').receive({});
    helper.getNode('w').receive({ payload: 51 });
    helper.getNode('k').receive({});
    await waitUntil(() => caught.length === 3);
    assert.ok(caught.every((m) => /portal ID is not known.*set the Portal ID in the GX config node/.test(m.error.message)),
      caught.map((m) => m.error.message).join('\n'));
    assert.equal(got.length, 1, 'only the write result: ' + JSON.stringify(got));
    assert.equal(got[0].payload.ok, false);
    assert.equal(got[0].payload.topic, undefined, 'no W// topic in the result');
    assert.equal(sim2.service('com.victronenergy.battery.ttyO0')!.writes.length, 0);
    await sleep(200);
    assert.equal(warnings.filter((w) => /no portal ID.*Set the Portal ID/.test(w)).length, 1, warnings.join('\n'));
    // the system service arrives: the values left out at deploy are sent, with the portal
    await sim2.addService({ name: 'com.victronenergy.system', paths: { '/Serial': new Variant('s', 'lateportal01') } });
    await waitUntil(() => got.some((m) => m.topic === 'N/lateportal01/battery/256/Soc'), 5000, 'the missed value');
    await waitUntil(() => nStatus[nStatus.length - 1].text === 'connected');
    assert.ok(got.every((m) => !String(m.topic ?? '').startsWith('N//')), JSON.stringify(got.map((m) => m.topic)));
  } finally {
    await helper.unload();
    await sim2.stop();
    await bus2.stop();
  }
});

test('gx-keepalive: the node\'s settings win over an Inject\'s payload; options from msg.payload only when set so', async () => {
  await helper.load(NODES, [
    tab, cfg(),
    { id: 'k', type: 'gx-keepalive', z: 'f1', server: 'cfg', interval: 0, suppress: true, echo: true, wires: [['out']] },
    { id: 'km', type: 'gx-keepalive', z: 'f1', server: 'cfg', interval: 0, suppress: true, echo: false, options: 'msg', wires: [['outm']] },
    { id: 'out', type: 'helper', z: 'f1' }, { id: 'outm', type: 'helper', z: 'f1' },
  ]);
  const got = collect(helper.getNode('out'));
  const gotM = collect(helper.getNode('outm'));
  const c = await connected();
  const published: string[] = [];
  c.controller.engine.on('publish', (m: any) => { if (m.topic.endsWith('/full_publish_completed')) published.push(m.payload); });
  helper.getNode('k').receive({ payload: Date.now() });
  await waitUntil(() => got.length === 1, 5000, 'the first keep-alive is a full one');
  helper.getNode('k').receive({ payload: '{"keepalive-options":[{"full-publish-completed-echo":"x"}]}' });
  await sleep(1100); // more than the republish rate limit (K6): a full one would publish again
  helper.getNode('k').receive({ payload: 1234 });
  await sleep(200);
  assert.equal(published.length, 1, 'later keep-alives are suppressed whatever msg.payload holds: ' + published.join(' '));
  helper.getNode('km').receive({ payload: { 'keepalive-options': [{ 'full-publish-completed-echo': 'mine' }] } });
  await waitUntil(() => gotM.some((m) => m.payload['full-publish-completed-echo'] === 'mine'), 5000, 'the options from msg.payload');
});

test('a redeploy during a slow write: the write completes and reports before the nodes close', async () => {
  const peer = new ScriptedPeer('com.victronenergy.slow.s1');
  peer.items = { '/DeviceInstance': new Variant('i', 5), '/Setpoint': new Variant('d', 0) };
  await peer.connect(bus.address);
  try {
    const flow = (name: string) => [
      tab, cfg(),
      { id: 'w', type: 'gx-write', z: 'f1', server: 'cfg', name, path: 'slow/5/Setpoint', wires: [[]] },
    ];
    await helper.load(NODES, flow('a'));
    const c = await connected();
    await waitUntil(() => c.controller.engine.cache.route('slow', '5') !== undefined);
    // the old node instance, watched directly (the test helper's spies do not outlive a redeploy)
    const old = helper.getNode('w');
    const results: any[] = [];
    const errors: string[] = [];
    old.send = (m: any) => results.push(m.payload);
    old.error = (e: any) => errors.push(String(e));
    const engineResults: any[] = [];
    c.controller.engine.on('write-result', (r: any) => engineResults.push(r));
    peer.setValueDelayMs = 800;
    helper.getNode('w').receive({ payload: 42 });
    await sleep(100);
    assert.equal(results.length, 0, 'still writing');
    const t0 = Date.now();
    await helper.setFlows(flow('b') as object[], 'full');
    assert.ok(Date.now() - t0 >= 500, 'the redeploy waited for the write');
    assert.deepEqual(peer.writes, [{ path: '/Setpoint', value: 42 }]);
    assert.equal(results.length, 1);
    assert.equal(results[0].ok, true, JSON.stringify(results[0]));
    assert.deepEqual(engineResults.map((r) => r.ok), [true], 'the D-Bus connection was still there for the reply');
    assert.deepEqual(errors, []);
  } finally {
    peer.disconnect();
  }
});

test('a node whose config node was deleted: red status, one error, messages to Catch', async () => {
  await helper.load(NODES, [
    tab,
    { id: 'r', type: 'gx-read', z: 'f1', server: 'deleted-config', path: 'battery/256/Soc', wires: [[]] },
    catcher, caughtNode,
  ]);
  const caught = collect(helper.getNode('caught'));
  const r = helper.getNode('r');
  helper.getNode('r').receive({});
  await waitUntil(() => caught.length === 1);
  assert.match(caught[0].error.message, /its GX config node \(deleted-config\) is missing or disabled/);
  const mine = r.status.getCalls().filter((call: any) => call.thisValue === r).map((call: any) => call.args[0]);
  assert.deepEqual(mine, [{ fill: 'red', shape: 'ring', text: 'no GX config' }]);
});
