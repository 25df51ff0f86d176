// Values people can read, in the real runtime against a private dbus-daemon with the simulator:
// msg.text (the service's own text), msg.label, msg.unit and msg.enum (the path catalogue) on
// gx-notify and gx-read, masked with the secrets; the admin item list with labels and units and
// search by label; the palette nodes' default labels.
import { after, afterEach, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Variant } from 'dbus-next';
import { GxSimulator } from '../../src/sim';
import { startPrivateBus, PrivateBus } from '../support/dbus-daemon';
import { waitUntil } from '../support/engine-fixture';
import { collect, connectedConfig as connected, helper, NODES, withAdminServer } from '../support/nr-helper';

let bus: PrivateBus;
let sim: GxSimulator;
const P = 'valuetest001';
const PIN = '424242';

before(async () => {
  bus = await startPrivateBus();
  sim = new GxSimulator({ address: bus.address });
  await sim.addService({ name: 'com.victronenergy.system', paths: { '/Serial': new Variant('s', P) } });
  await sim.addService({
    name: 'com.victronenergy.battery.ttyO0',
    paths: {
      '/DeviceInstance': new Variant('i', 256),
      '/ProductName': 'BMV-712 Smart',
      '/Soc': { type: 'd', value: 80, decimals: 1, unit: '%' },
      '/Dc/0/Voltage': { type: 'd', value: 52.1, decimals: 2, unit: 'V' },
      '/Vendor/Thing': { type: 'i', value: 7, text: 'seven' },
    },
  });
  await sim.addService({
    name: 'com.victronenergy.vebus.ttyO1',
    paths: {
      '/DeviceInstance': new Variant('i', 257),
      '/ProductName': 'MultiPlus-II 48/5000',
      '/State': { type: 'u', value: 3, text: 'Bulk' },
      '/Hub4/L1/AcPowerSetpoint': { type: 'd', value: 0 },
    },
  });
  await sim.addService({
    name: 'com.victronenergy.settings',
    paths: { '/Settings/Ble/Service/Pincode': { type: 's', value: PIN, text: `PIN ${PIN}` } },
  });
});

afterEach(() => helper.unload());

after(async () => {
  await sim.stop();
  await bus.stop();
});

const config = () => ({ id: 'cfg', type: 'gx-config', dbusAddress: bus.address });

test('gx-notify: msg.text from the service, msg.label, msg.unit and msg.enum from the catalogue; none of them for an unknown path', async () => {
  await helper.load(NODES, [
    config(),
    { id: 'n', type: 'gx-notify', server: 'cfg', filter: '#', initial: true, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ]);
  const got = collect(helper.getNode('out'));
  await connected();
  const of = (path: string) => got.filter((m) => `${m.gx.type}/${m.gx.instance}${m.gx.path}` === path);
  await waitUntil(() => of('battery/256/Soc').length > 0 && of('vebus/257/State').length > 0 && of('battery/256/Vendor/Thing').length > 0);
  const soc = of('battery/256/Soc')[0];
  assert.equal(soc.payload, 80);
  assert.equal(soc.text, '80.0%');
  assert.equal(soc.label, 'State of charge');
  assert.equal(soc.unit, '%');
  assert.equal(soc.enum, undefined, 'not an enumeration');
  const state = of('vebus/257/State')[0];
  assert.deepEqual([state.payload, state.text, state.label, state.enum, state.unit], [3, 'Bulk', 'State', 'Bulk', undefined]);
  const unknown = of('battery/256/Vendor/Thing')[0];
  assert.equal(unknown.payload, 7);
  assert.equal(unknown.text, 'seven', 'the service\'s text even for a path the catalogue does not know');
  for (const k of ['label', 'unit', 'enum']) assert.ok(!(k in unknown), `no msg.${k} for an unknown path`);
  // a change: the new value's text and name
  got.length = 0;
  sim.service('com.victronenergy.vebus.ttyO1')!.setValue('/State', 4, { text: 'Absorption' });
  sim.service('com.victronenergy.battery.ttyO0')!.setValue('/Soc', 81.5);
  await waitUntil(() => of('vebus/257/State').length > 0 && of('battery/256/Soc').length > 0);
  const absorption = of('vebus/257/State')[0];
  assert.deepEqual([absorption.payload, absorption.text, absorption.enum, absorption.gx.cause], [4, 'Absorption', 'Absorption', 'change']);
  assert.equal(of('battery/256/Soc')[0].text, '81.5%');
  sim.service('com.victronenergy.vebus.ttyO1')!.setValue('/State', 3, { text: 'Bulk' });
  sim.service('com.victronenergy.battery.ttyO0')!.setValue('/Soc', 80);
  await waitUntil(() => of('battery/256/Soc').some((m) => m.payload === 80) && of('vebus/257/State').some((m) => m.payload === 3));
});

test('masked settings: the text is masked with the value (gx-notify, gx-read), in clear only with the opt-in', async () => {
  await helper.load(NODES, [
    config(),
    { id: 'n', type: 'gx-notify', server: 'cfg', filter: 'settings/0/Settings/Ble/#', initial: true, wires: [['masked']] },
    { id: 'nr', type: 'gx-notify', server: 'cfg', filter: 'settings/0/Settings/Ble/#', initial: true, revealSecrets: true, wires: [['clear']] },
    { id: 'r', type: 'gx-read', server: 'cfg', path: 'settings/0/Settings/Ble/Service/Pincode', wires: [['masked']] },
    { id: 'masked', type: 'helper' }, { id: 'clear', type: 'helper' },
  ]);
  const masked = collect(helper.getNode('masked'));
  const clear = collect(helper.getNode('clear'));
  await connected();
  await waitUntil(() => masked.length === 1 && clear.length === 1);
  helper.getNode('r').receive({});
  await waitUntil(() => masked.length === 2);
  for (const m of masked) {
    assert.equal(m.payload, '******');
    assert.equal(m.text, '******');
    assert.equal(m.label, 'Bluetooth PIN code');
    assert.ok(!JSON.stringify(m).includes(PIN), JSON.stringify(m));
  }
  assert.equal(clear[0].payload, PIN);
  assert.equal(clear[0].text, `PIN ${PIN}`);
});

test('gx-read: msg.text, label, unit, enum of the item read; those of the input message are not carried over', async () => {
  await helper.load(NODES, [
    config(),
    { id: 'r', type: 'gx-read', server: 'cfg', path: 'battery/256/', wires: [['out']] },
    { id: 'out', type: 'helper' },
  ]);
  const got = collect(helper.getNode('out'));
  await connected();
  // as if the input came from gx-notify: its descriptive properties belong to another item
  helper.getNode('r').receive({ payload: 1, text: 'Bulk', label: 'State', unit: 'W', enum: 'Bulk', keep: 'me' });
  await waitUntil(() => got.length >= 4);
  const by = (p: string) => got.find((m) => m.gx.path === p);
  assert.deepEqual([by('/Dc/0/Voltage').text, by('/Dc/0/Voltage').label, by('/Dc/0/Voltage').unit], ['52.10V', 'Voltage', 'V']);
  const thing = by('/Vendor/Thing');
  assert.equal(thing.text, 'seven');
  for (const k of ['label', 'unit', 'enum']) assert.ok(!(k in thing), `no msg.${k} from the input message`);
  assert.ok(!('unit' in by('/ProductName')) && !('enum' in by('/Soc')));
  assert.ok(got.every((m) => m.keep === 'me'), 'other properties of the input are kept');
});

test('admin item list: label, unit, text and value name per item; search by label and unit as well as by path and text', async () => {
  await withAdminServer(async () => {
    await helper.load(NODES, [config()]);
    await connected();
    const get = async (q: string) => (await helper.request().get(`/gx-config/cfg/items${q}`).expect(200)).body;
    const all = await get('?limit=1000');
    const item = (p: string) => all.items.find((i: any) => i.path === p);
    assert.deepEqual(item('battery/256/Soc'), { path: 'battery/256/Soc', device: 'battery/256', value: 80, text: '80.0%', label: 'State of charge', unit: '%' });
    assert.deepEqual(item('vebus/257/State'), { path: 'vebus/257/State', device: 'vebus/257', value: 3, text: 'Bulk', label: 'State', enum: 'Bulk' });
    assert.equal(item('vebus/257/Hub4/L1/AcPowerSetpoint').writable, true, 'a setpoint is marked as meant to be written');
    assert.deepEqual(item('battery/256/Vendor/Thing'), { path: 'battery/256/Vendor/Thing', device: 'battery/256', value: 7, text: 'seven' });
    const pin = item('settings/0/Settings/Ble/Service/Pincode');
    assert.deepEqual([pin.value, pin.text, pin.label], ['******', '******', 'Bluetooth PIN code']);
    assert.ok(all.devices.some((d: any) => d.device === 'battery/256' && d.kind === 'Battery' && d.name === 'BMV-712 Smart'));
    // by label: every word somewhere in the path, its label or unit, or the kind of device
    const bySoc = await get('?q=state of charge');
    assert.deepEqual(bySoc.items.map((i: any) => i.path), ['battery/256/Soc']);
    const byWords = await get('?q=setpoint l1');
    assert.deepEqual(byWords.items.map((i: any) => i.path), ['vebus/257/Hub4/L1/AcPowerSetpoint']);
    const byVolt = await get('?q=battery voltage');
    assert.ok(byVolt.items.some((i: any) => i.path === 'battery/256/Dc/0/Voltage'), JSON.stringify(byVolt.items));
    // by path and text, as before; never by a masked setting's text
    assert.deepEqual((await get('?q=52.10V')).items.map((i: any) => i.path), ['battery/256/Dc/0/Voltage']);
    assert.equal((await get(`?q=${PIN}`)).total, 0);
  });
});

test('default node labels from the catalogue: short, the device named when it matters, the path when the catalogue has none', async () => {
  await withAdminServer(async () => {
    await helper.load(NODES, [config()]);
    const targets = ['battery/256/Soc', 'battery/+/Soc', 'vebus/257/Hub4/L1/AcPowerSetpoint', 'system/0/Dc/Battery/Soc',
      'settings/0/Settings/CGwacs/BatteryLife/MinimumSocLimit', 'settings/0/Settings/CGwacs', 'battery/256/', 'vebus/#', 'battery/256/Vendor/Thing'];
    const res = await helper.request().get(`/gx-catalogue/labels?${targets.map((t) => `p=${encodeURIComponent(t)}`).join('&')}`).expect(200);
    assert.deepEqual(res.body, {
      'battery/256/Soc': 'battery/256 State of charge',
      'battery/+/Soc': 'Battery: State of charge',
      'vebus/257/Hub4/L1/AcPowerSetpoint': 'vebus/257 ESS AC power setpoint L1',
      'system/0/Dc/Battery/Soc': 'System: Battery state of charge',
      'settings/0/Settings/CGwacs/BatteryLife/MinimumSocLimit': 'Settings: ESS minimum SoC (unless grid…',
      'settings/0/Settings/CGwacs': null,
      'battery/256/': null,
      'vebus/#': null,
      'battery/256/Vendor/Thing': null,
    });
    assert.ok(Object.values(res.body).every((l) => l === null || (l as string).length <= 40));
    // one label for a single path (Express gives a string, not an array)
    assert.deepEqual((await helper.request().get('/gx-catalogue/labels?p=grid/30/Ac/Power').expect(200)).body, { 'grid/30/Ac/Power': 'grid/30 Power' });
  });
});
