// BusItem behaviour of simulated services, checked from an independent dbus-next client and
// dbus-send on a real private dbus-daemon.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { startPrivateBus, PrivateBus } from '../support/dbus-daemon';
import { GxSimulator, SimService, Variant, loadScenario } from '../../src/sim';
import type { ServiceDef } from '../../src/sim';
import { CallError, Client, TimeoutError, dbusSend, delay, fixture, isItemsChanged, isPropertiesChanged } from './helpers';

const BAT = 'com.victronenergy.battery.scenario';
const SETTINGS = 'com.victronenergy.settings';

// Both encoders: our own (default) and dbus-next's Message/bus.send.
for (const marshal of ['fast', 'dbus-next'] as const) describe(`simulated service (scenario basic.json, ${marshal} marshalling)`, () => {
  let bus: PrivateBus;
  let sim: GxSimulator;
  let client: Client;
  let svc: SimService;

  before(async () => {
    bus = await startPrivateBus();
    sim = new GxSimulator({ address: bus.address, marshal });
    [svc] = await sim.addServices(loadScenario(fixture('scenarios', 'basic.json')));
    client = await Client.connect(bus.address);
    await client.watch();
  });

  after(async () => {
    await client?.close();
    await sim?.stop();
    await bus?.stop();
  });

  test('GetItems: every path with Value of its D-Bus type, Text, Min/Max where declared', async () => {
    const reply = await client.call(BAT, '/', 'GetItems');
    assert.equal(reply.signature, 'a{sa{sv}}');
    const items = reply.body[0] as Record<string, Record<string, Variant>>;
    const sig = (p: string) => items[p].Value.signature;
    const val = (p: string) => items[p].Value.value;
    assert.equal(Object.keys(items).length, 20);
    assert.equal(sig('/DeviceInstance'), 'u');
    assert.equal(val('/DeviceInstance'), 7);
    assert.equal(sig('/Dc/0/Voltage'), 'd');
    assert.equal(val('/Dc/0/Voltage'), 12.5);
    assert.deepEqual(items['/Dc/0/Voltage'].Text, new Variant('s', '12.50V'));
    assert.deepEqual(items['/Dc/0/Current'].Text.value, '3.0A');
    assert.equal(sig('/Dc/1/Voltage'), 'ai');
    assert.deepEqual(val('/Dc/1/Voltage'), []);
    assert.equal(items['/Dc/1/Voltage'].Text.value, '---');
    assert.equal(sig('/Serial'), 's');
    assert.equal(sig('/Count'), 'i');
    assert.equal(sig('/Flag'), 'b');
    assert.equal(val('/Flag'), true);
    assert.equal(sig('/Small'), 'y');
    assert.equal(sig('/Short'), 'n');
    assert.equal(val('/Short'), -5);
    assert.equal(sig('/UShort'), 'q');
    assert.equal(sig('/Big'), 'x');
    assert.equal(val('/Big'), -9007199254740993n);
    assert.equal(sig('/UBig'), 't');
    assert.equal(val('/UBig'), 18446744073709551615n);
    assert.equal(sig('/History/Raw'), 'ay');
    assert.deepEqual([...(val('/History/Raw') as Buffer)], [1, 2, 255]);
    assert.deepEqual(items['/List/Doubles'].Value, new Variant('ad', [1.5, 2]));
    assert.deepEqual(items['/List/Strings'].Value, new Variant('as', ['a', 'b']));
    assert.equal(sig('/Dict'), 'a{sv}');
    assert.deepEqual(val('/Dict'), { a: new Variant('i', 1), b: new Variant('s', 'x') });
    assert.deepEqual(items['/Soc'].Min, new Variant('d', 0));
    assert.deepEqual(items['/Soc'].Max, new Variant('d', 100));
    assert.equal(items['/Serial'].Min, undefined);
  });

  test('dbus-send sees the same GetItems, GetValue and GetText', async () => {
    const r = await dbusSend(bus.address, ['--print-reply', `--dest=${BAT}`, '/', 'com.victronenergy.BusItem.GetItems']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /string "\/Dc\/0\/Voltage"\s+array \[\s+dict entry\(\s+string "Value"\s+variant\s+double 12\.5/);
    assert.match(r.stdout, /string "\/DeviceInstance"\s+array \[\s+dict entry\(\s+string "Value"\s+variant\s+uint32 7/);
    assert.match(r.stdout, /string "\/UBig"\s+array \[\s+dict entry\(\s+string "Value"\s+variant\s+uint64 18446744073709551615/);
    const v = await dbusSend(bus.address, ['--print-reply', `--dest=${BAT}`, '/Count', 'com.victronenergy.BusItem.GetValue']);
    assert.match(v.stdout, /variant\s+int32 7/);
    const t = await dbusSend(bus.address, ['--print-reply', `--dest=${BAT}`, '/Soc', 'com.victronenergy.BusItem.GetText']);
    assert.match(t.stdout, /variant\s+string "80%"/);
  });

  test('GetValue / GetText on / and on intermediate paths: dict of relative paths', async () => {
    const root = await client.getValue(BAT, '/');
    assert.equal(root.signature, 'a{sv}');
    const r = root.value as Record<string, Variant>;
    assert.deepEqual(r['Dc/0/Voltage'], new Variant('d', 12.5));
    assert.deepEqual(r['DeviceInstance'], new Variant('u', 7));
    assert.equal(Object.keys(r).length, 20);
    assert.ok(Object.keys(r).every((k) => !k.startsWith('/')));
    const dc = (await client.getValue(BAT, '/Dc')).value as Record<string, Variant>;
    assert.deepEqual(Object.keys(dc).sort(), ['0/Current', '0/Voltage', '1/Voltage']);
    const dc0 = (await client.getValue(BAT, '/Dc/0')).value as Record<string, Variant>;
    assert.deepEqual(Object.keys(dc0).sort(), ['Current', 'Voltage']);
    const text = await client.call(BAT, '/Dc/0', 'GetText');
    assert.deepEqual(text.body[0], new Variant('a{ss}', { Voltage: '12.50V', Current: '3.0A' }));
  });

  test('unknown path → UnknownObject; undeclared GetMin → UnknownMethod; GetMin/GetMax', async () => {
    await assert.rejects(client.getValue(BAT, '/Nope'), (e: CallError) => e.errorName === 'org.freedesktop.DBus.Error.UnknownObject');
    await assert.rejects(client.getValue(BAT, '/Dc/0/Voltage/More'), (e: CallError) => e.errorName === 'org.freedesktop.DBus.Error.UnknownObject');
    await assert.rejects(client.call(BAT, '/Serial', 'GetMin'), (e: CallError) => e.errorName === 'org.freedesktop.DBus.Error.UnknownMethod');
    await assert.rejects(client.call(BAT, '/Dc', 'GetItems'), (e: CallError) => e.errorName === 'org.freedesktop.DBus.Error.UnknownMethod');
    assert.deepEqual((await client.call(BAT, '/Soc', 'GetMin')).body[0], new Variant('d', 0));
    assert.deepEqual((await client.call(BAT, '/Soc', 'GetMax')).body[0], new Variant('d', 100));
  });

  test('Introspect: child nodes everywhere, BusItem with SetValue on leaves', async () => {
    const intro = async (p: string) => (await client.call(BAT, p, 'Introspect', '', [], 'org.freedesktop.DBus.Introspectable')).body[0] as string;
    const root = await intro('/');
    for (const child of ['DeviceInstance', 'Dc', 'Soc', 'History', 'List']) assert.match(root, new RegExp(`<node name="${child}" ?/>`));
    assert.match(root, /<method name="GetItems">/);
    assert.match(root, /<signal name="ItemsChanged">/);
    const dc = await intro('/Dc');
    assert.match(dc, /<node name="0" ?\/>/);
    assert.match(dc, /<node name="1" ?\/>/);
    assert.doesNotMatch(dc, /SetValue/);
    const leaf = await intro('/Dc/0/Voltage');
    assert.match(leaf, /<interface name="com.victronenergy.BusItem">[\s\S]*<method name="SetValue">/);
    assert.doesNotMatch(leaf, /<node name="[^/]/);
    // dbus-send too
    const r = await dbusSend(bus.address, ['--print-reply', `--dest=${BAT}`, '/Relay', 'org.freedesktop.DBus.Introspectable.Introspect']);
    assert.match(r.stdout, /<node name="0" ?\/>/);
  });

  test('SetValue coercion: int to a double item becomes a double and is signalled back', async () => {
    client.clear();
    assert.equal(await client.setValue(BAT, '/Dc/0/Voltage', new Variant('i', 13)), 0);
    assert.deepEqual(await client.getValue(BAT, '/Dc/0/Voltage'), new Variant('d', 13));
    const pc = await client.waitFor((m) => isPropertiesChanged(m, '/Dc/0/Voltage'));
    assert.deepEqual(pc.body[0], { Value: new Variant('d', 13), Text: new Variant('s', '13.00V') });
    assert.equal(pc.sender, svc.uniqueName);
    const ic = await client.waitFor(isItemsChanged);
    assert.deepEqual(ic.body[0], { '/Dc/0/Voltage': { Value: new Variant('d', 13), Text: new Variant('s', '13.00V') } });
    // and with dbus-send (an independent client): an integral double to an int item
    const r = await dbusSend(bus.address, ['--print-reply', `--dest=${BAT}`, '/Count', 'com.victronenergy.BusItem.SetValue', 'variant:double:9']);
    assert.match(r.stdout, /int32 0/);
    assert.deepEqual(await client.getValue(BAT, '/Count'), new Variant('i', 9));
  });

  test('SetValue refusals: 1.5 to an int, string to a number, out of range, read-only → 1; reject → 2', async () => {
    client.clear();
    assert.equal(await client.setValue(BAT, '/Count', new Variant('d', 1.5)), 1);
    assert.equal(await client.setValue(BAT, '/Count', new Variant('s', '5')), 1);
    assert.equal(await client.setValue(BAT, '/Serial', new Variant('i', 5)), 1);
    assert.equal(await client.setValue(BAT, '/Small', new Variant('i', 256)), 1);
    assert.equal(await client.setValue(BAT, '/UShort', new Variant('i', -1)), 1);
    assert.equal(await client.setValue(BAT, '/Mode', new Variant('i', 4)), 1);
    assert.equal(await client.setValue(BAT, '/Relay/0/State', new Variant('i', 1)), 2);
    assert.equal(await client.setValue(BAT, '/Relay/0/State', new Variant('i', 0)), 0, 'same value is OK, as velib');
    assert.deepEqual(await client.getValue(BAT, '/Count'), new Variant('i', 9));
    assert.deepEqual(await client.getValue(BAT, '/Mode'), new Variant('i', 3));
    assert.deepEqual(await client.getValue(BAT, '/Relay/0/State'), new Variant('i', 0));
    assert.deepEqual(await client.collect((m) => isItemsChanged(m) || isPropertiesChanged(m), 150), []);
    const w = svc.writes.slice(-8).map((x) => [x.path, x.result]);
    assert.deepEqual(w, [['/Count', 1], ['/Count', 1], ['/Serial', 1], ['/Small', 1], ['/UShort', 1], ['/Mode', 1],
      ['/Relay/0/State', 2], ['/Relay/0/State', 0]]);
  });

  test('SetValue: an empty array of any type makes any item invalid; an equal value is not signalled', async () => {
    client.clear();
    assert.equal(await client.setValue(BAT, '/Serial', new Variant('as', [])), 0);
    assert.deepEqual(await client.getValue(BAT, '/Serial'), new Variant('ai', []));
    const ic = await client.waitFor(isItemsChanged);
    assert.deepEqual(ic.body[0], { '/Serial': { Value: new Variant('ai', []), Text: new Variant('s', '---') } });
    assert.equal(await client.setValue(BAT, '/Serial', new Variant('s', 'NEW')), 0);
    assert.deepEqual(await client.getValue(BAT, '/Serial'), new Variant('s', 'NEW'));
    client.clear();
    assert.equal(await client.setValue(BAT, '/Serial', new Variant('s', 'NEW')), 0);
    assert.deepEqual(await client.collect((m) => isItemsChanged(m) || isPropertiesChanged(m), 150), []);
  });

  test('service.setValue: with and without signal, several changes in one ItemsChanged, new paths', async () => {
    client.clear();
    assert.equal(svc.setValue('/Count', 11, { signal: false }), true);
    assert.deepEqual(await client.getValue(BAT, '/Count'), new Variant('i', 11));
    assert.deepEqual(await client.collect(isItemsChanged, 150), []);
    svc.setValue('/Dc/0/Voltage', 14.25);
    svc.setValue('/Dc/0/Current', new Variant('d', -2));
    svc.setValue('/New/Path', 42);
    const ic = await client.waitFor(isItemsChanged);
    assert.deepEqual(ic.body[0], {
      '/Dc/0/Voltage': { Value: new Variant('d', 14.25), Text: new Variant('s', '14.25V') },
      '/Dc/0/Current': { Value: new Variant('d', -2), Text: new Variant('s', '-2.0A') },
      '/New/Path': { Value: new Variant('i', 42), Text: new Variant('s', '42') },
    });
    await delay(100);
    assert.equal(client.signals.filter(isItemsChanged).length, 1);
    assert.deepEqual(client.signals.filter((m) => isPropertiesChanged(m)).map((m) => m.path).sort(),
      ['/Dc/0/Current', '/Dc/0/Voltage', '/New/Path']);
    assert.deepEqual(await client.getValue(BAT, '/New/Path'), new Variant('i', 42));
    const root = (await client.call(BAT, '/', 'Introspect', '', [], 'org.freedesktop.DBus.Introspectable')).body[0] as string;
    assert.match(root, /<node name="New" ?\/>/);
    client.clear();
    assert.equal(svc.setValue('/Dc/0/Voltage', 14.25), false, 'equal value: no change');
    assert.deepEqual(await client.collect(isItemsChanged, 100), []);
  });

  test('setDeviceInstance keeps the D-Bus type and signals', async () => {
    client.clear();
    svc.setDeviceInstance(9);
    assert.deepEqual(await client.getValue(BAT, '/DeviceInstance'), new Variant('u', 9));
    const ic = await client.waitFor(isItemsChanged);
    assert.deepEqual((ic.body[0] as Record<string, { Value: Variant }>)['/DeviceInstance'].Value, new Variant('u', 9));
  });

  test('getItems:false service answers UnknownMethod, GetValue on / works (fallback)', async () => {
    await assert.rejects(client.call(SETTINGS, '/', 'GetItems'), (e: CallError) => e.errorName === 'org.freedesktop.DBus.Error.UnknownMethod');
    const r = await dbusSend(bus.address, ['--print-reply', `--dest=${SETTINGS}`, '/', 'com.victronenergy.BusItem.GetItems']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /org\.freedesktop\.DBus\.Error\.UnknownMethod/);
    const root = await client.getValue(SETTINGS, '/');
    assert.deepEqual(root.value, { 'Settings/SystemSetup/AcInput1': new Variant('i', 1), 'Settings/Gui/Brightness': new Variant('i', 80) });
    assert.deepEqual((await client.call(SETTINGS, '/Settings/SystemSetup/AcInput1', 'GetMax')).body[0], new Variant('i', 3));
  });
});

describe('signal modes', () => {
  let bus: PrivateBus;
  let sim: GxSimulator;
  let client: Client;

  before(async () => {
    bus = await startPrivateBus();
    sim = new GxSimulator({ address: bus.address });
    client = await Client.connect(bus.address);
    await client.watch();
  });

  after(async () => {
    await client?.close();
    await sim?.stop();
    await bus?.stop();
  });

  const def = (name: string): ServiceDef => ({ name, paths: { '/A': { type: 'd', value: 1 }, '/B/C': { type: 'i', value: 1 } } });

  for (const mode of ['both', 'items', 'properties', 'none'] as const) {
    test(`signals: '${mode}'`, async () => {
      const name = `com.victronenergy.test.mode_${mode}`;
      const svc = await sim.addService(def(name), { signals: mode });
      client.clear();
      svc.setValue('/A', 2);
      svc.setValue('/B/C', 5);
      // a client SetValue is signalled the same way
      assert.equal(await client.setValue(name, '/A', new Variant('d', 3)), 0);
      const got = await client.collect((m) => m.sender === svc.uniqueName, 200);
      const items = got.filter(isItemsChanged);
      const props = got.filter((m) => isPropertiesChanged(m));
      const wantItems = mode === 'both' || mode === 'items';
      const wantProps = mode === 'both' || mode === 'properties';
      assert.equal(items.length, wantItems ? 2 : 0);
      assert.equal(props.length, wantProps ? 3 : 0);
      if (wantItems) {
        assert.deepEqual(Object.keys(items[0].body[0]).sort(), ['/A', '/B/C']);
        assert.deepEqual(items[1].body[0], { '/A': { Value: new Variant('d', 3), Text: new Variant('s', '3.0') } });
      }
      if (wantProps) {
        assert.deepEqual(props.map((m) => m.path), ['/A', '/B/C', '/A']);
        assert.deepEqual(props[1].body[0], { Value: new Variant('i', 5), Text: new Variant('s', '5') });
        assert.equal(props[0].signature, 'a{sv}');
      }
      await sim.removeService(name);
    });
  }

  test('hang: GetItems and GetValue on / never answer, other paths do; setOptions ends it', async () => {
    const name = 'com.victronenergy.test.hang';
    const svc = await sim.addService(def(name), { hang: true });
    await assert.rejects(client.call(name, '/', 'GetItems', '', [], undefined, 1000), TimeoutError);
    await assert.rejects(client.call(name, '/', 'GetValue', '', [], undefined, 300), TimeoutError);
    const r = await dbusSend(bus.address, ['--print-reply', '--reply-timeout=700', `--dest=${name}`, '/', 'com.victronenergy.BusItem.GetItems']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /NoReply/);
    assert.deepEqual(await client.getValue(name, '/A'), new Variant('d', 1));
    assert.equal(svc.calls.GetItems, 2);
    svc.setOptions({ hang: false });
    const items = (await client.call(name, '/', 'GetItems')).body[0] as Record<string, unknown>;
    assert.deepEqual(Object.keys(items), ['/A', '/B/C']);
    await sim.removeService(name);
  });

  test('rootGetValue:false + getItems:false: only introspection and per-path GetValue work', async () => {
    const name = 'com.victronenergy.test.old';
    await sim.addService(def(name), { rootGetValue: false, getItems: false });
    const isUnknownMethod = (e: CallError) => e.errorName === 'org.freedesktop.DBus.Error.UnknownMethod';
    await assert.rejects(client.call(name, '/', 'GetItems'), isUnknownMethod);
    await assert.rejects(client.getValue(name, '/'), isUnknownMethod);
    await assert.rejects(client.getValue(name, '/B'), isUnknownMethod);
    await assert.rejects(client.call(name, '/B', 'GetText'), isUnknownMethod);
    // walk the tree as dbus-mqtt does: introspect, GetValue on leaves with the BusItem interface
    const found: Record<string, Variant> = {};
    const walk = async (p: string): Promise<void> => {
      const xml = (await client.call(name, p, 'Introspect', '', [], 'org.freedesktop.DBus.Introspectable')).body[0] as string;
      const children = [...xml.matchAll(/<node name="([^"]+)" ?\/>/g)].map((m) => m[1]);
      if (children.length === 0 && xml.includes('interface name="com.victronenergy.BusItem"')) {
        found[p] = await client.getValue(name, p);
      }
      for (const c of children) await walk(p === '/' ? `/${c}` : `${p}/${c}`);
    };
    await walk('/');
    assert.deepEqual(found, { '/A': new Variant('d', 1), '/B/C': new Variant('i', 1) });
    await sim.removeService(name);
  });
});
