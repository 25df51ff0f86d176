// The engine's D-Bus side on a real private dbus-daemon with the simulator: discovery, scans
// and their fallbacks, signals, instances, vanishing services (spec §1–4, scenarios of §11.3).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Variant } from 'dbus-next';
import { startEngineFixture, PORTAL, sleep, waitUntil } from '../support/engine-fixture';
import { RawService } from '../support/raw-service';

const N = `N/${PORTAL}`;
const battery = (paths: Record<string, unknown> = {}) => ({
  name: 'com.victronenergy.battery.ttyO1',
  paths: { '/DeviceInstance': new Variant('u', 512), '/Soc': new Variant('d', 50.5), ...paths },
});

test('scan, alive/not-alive publishing, changes, duplicates and invalid values (§11.3 1, 7, 9, 15, 16)', async () => {
  const fx = await startEngineFixture({ beforeStart: async (sim) => { await sim.addService(battery({ '/Dc/0/Current': new Variant('d', 0) })); } });
  try {
    const svc = fx.sim.service('com.victronenergy.battery.ttyO1')!;
    assert.equal(fx.published.length, 0, 'nothing is published while not alive');
    svc.setValue('/Soc', 51.5);
    await waitUntil(() => fx.engine.cache.services.get(svc.name)!.items.get('/Soc')!.value === 51.5);
    assert.equal(fx.published.length, 0, 'a change while not alive is not published (K8)');
    fx.engine.keepaliveRequest('');
    assert.ok(fx.published.some((m) => m.topic === `${N}/battery/512/Soc` && m.payload === '{"value":51.5}'), 'the cache had the new value');
    assert.ok(fx.published.some((m) => m.topic === `${N}/battery/512/Dc/0/Current` && m.payload === '{"value":0.0}'), 'bytes {"value":0.0}');
    fx.published.length = 0;
    svc.setValue('/Soc', new Variant('ai', []));
    await fx.waitPublished((m) => m.topic === `${N}/battery/512/Soc`);
    assert.equal(fx.published.find((m) => m.topic === `${N}/battery/512/Soc`)!.payload, '{"value":null}');
    // velib never signals an unchanged value, but when a service does, we publish it again (D15).
    fx.published.length = 0;
    svc.setValue('/Soc', 60);
    svc.flush();
    await fx.waitPublished((m) => m.payload === '{"value":60.0}');
    const raw = new RawService('com.victronenergy.battery.raw');
    await raw.connect(fx.bus.address);
    raw.items = { '/DeviceInstance': { Value: new Variant('i', 7) }, '/Soc': { Value: new Variant('d', 10) } };
    await sleep(50);
    // the raw service registered before we set items: make it register again
    raw.disconnect();
    await waitUntil(() => !fx.engine.cache.services.has('com.victronenergy.battery.raw'));
    const raw2 = new RawService('com.victronenergy.battery.raw');
    raw2.items = raw.items;
    await raw2.connect(fx.bus.address);
    await fx.waitService('com.victronenergy.battery.raw');
    fx.published.length = 0;
    raw2.signal('/', 'ItemsChanged', 'a{sa{sv}}', [{ '/Soc': { Value: new Variant('d', 11) } }]);
    raw2.signal('/', 'ItemsChanged', 'a{sa{sv}}', [{ '/Soc': { Value: new Variant('d', 11) } }]);
    await waitUntil(() => fx.published.filter((m) => m.topic === `${N}/battery/7/Soc`).length === 2);
    raw2.disconnect();
  } finally {
    await fx.close();
  }
});

test('min/max: from GetItems, kept across value changes, merged from ItemsChanged without Value (§11.3 10, 11, 12)', async () => {
  const fx = await startEngineFixture();
  const raw = new RawService('com.victronenergy.settings');
  raw.items = {
    '/Settings/Gui/Brightness': { Value: new Variant('i', 1), Text: new Variant('s', '1'), Min: new Variant('i', 0), Max: new Variant('i', 1) },
    '/Settings/Ble/Service/Pincode': { Value: new Variant('s', '123456'), Text: new Variant('s', '123456') },
  };
  try {
    await raw.connect(fx.bus.address);
    await fx.waitService('com.victronenergy.settings');
    fx.engine.keepaliveRequest('');
    const find = (t: string) => [...fx.published].reverse().find((m) => m.topic === `${N}/settings/0${t}`)?.payload;
    assert.equal(find('/Settings/Gui/Brightness'), '{"max":1,"min":0,"value":1}');
    assert.equal(find('/Settings/Ble/Service/Pincode'), '{"value":"******"}', 'J4 masking');
    raw.signal('/Settings/Gui/Brightness', 'PropertiesChanged', 'a{sv}', [{ Value: new Variant('i', 0), Text: new Variant('s', '0') }]);
    await waitUntil(() => find('/Settings/Gui/Brightness') === '{"max":1,"min":0,"value":0}');
    raw.signal('/', 'ItemsChanged', 'a{sa{sv}}', [{ '/Settings/Gui/Brightness': { Max: new Variant('i', 5) } }]);
    await waitUntil(() => find('/Settings/Gui/Brightness') === '{"max":5,"min":0,"value":0}');
    const before = fx.published.length;
    raw.signal('/Settings/Gui/Brightness', 'PropertiesChanged', 'a{sv}', [{ Text: new Variant('s', 'x') }]);
    raw.signal('/Settings/Gui/Brightness', 'PropertiesChanged', 'as', [['bad']]);
    raw.signal('/Settings/New/Path', 'PropertiesChanged', 'a{sv}', [{ Value: new Variant('d', 2.5) }]);
    await waitUntil(() => find('/Settings/New/Path') === '{"value":2.5}');
    assert.equal(fx.published.length, before + 1, 'no publish for a PropertiesChanged without Value or a malformed signal; a new path is created (D12)');
  } finally {
    raw.disconnect();
    await fx.close();
  }
});

test('device instance: numeric string, /Identifier, none; topics keep the old instance when it changes (§11.3 2–4, 43)', async () => {
  const fx = await startEngineFixture({
    beforeStart: async (sim) => {
      await sim.addService({ name: 'com.victronenergy.temperature.a', paths: { '/DeviceInstance': new Variant('s', '24'), '/T': new Variant('d', 1) } });
      await sim.addService({ name: 'com.victronenergy.vecan.can0', paths: { '/Identifier': new Variant('s', 'vecan0'), '/X': new Variant('i', 1) } });
      await sim.addService({ name: 'com.victronenergy.platform', paths: { '/Y': new Variant('i', 1) } });
      await sim.addService(battery());
    },
  });
  try {
    const routes = [...fx.engine.cache.services.values()].map((s) => s.routingKey).sort();
    assert.deepEqual(routes, ['battery/512', 'platform/0', 'temperature/24', 'vecan/vecan0']);
    fx.engine.keepaliveRequest('');
    fx.published.length = 0;
    fx.sim.service('com.victronenergy.battery.ttyO1')!.setDeviceInstance(9);
    await fx.waitPublished((m) => m.topic === `${N}/battery/512/DeviceInstance`);
    assert.equal(fx.published.find((m) => m.topic === `${N}/battery/512/DeviceInstance`)!.payload, '{"value":9}');
    assert.ok(fx.engine.cache.route('battery', '512'), 'routing stays on the old instance (I5)');
  } finally {
    await fx.close();
  }
});

test('scan fallbacks: GetValue on / without GetItems, introspection without both; a hung service does not stall others (§11.3 5, 6)', async () => {
  const fx = await startEngineFixture({
    tracker: { scanTimeoutMs: 800 },
    beforeStart: async (sim) => {
      await sim.addService({ name: 'com.victronenergy.pvinverter.old', paths: { '/DeviceInstance': new Variant('i', 20), '/Ac/Power': new Variant('i', 10) } },
        { getItems: false });
      await sim.addService({ name: 'com.victronenergy.tank.older', paths: { '/DeviceInstance': new Variant('i', 3), '/Level': new Variant('d', 55) } },
        { getItems: false, rootGetValue: false });
      await sim.addService({ name: 'com.victronenergy.meteo.hung', paths: { '/DeviceInstance': new Variant('i', 1), '/Irradiance': new Variant('d', 1) } },
        { hang: true });
      await sim.addService(battery());
    },
  });
  try {
    fx.engine.keepaliveRequest('');
    const payloadOf = (t: string) => fx.published.find((m) => m.topic === t)?.payload;
    assert.equal(payloadOf(`${N}/pvinverter/20/Ac/Power`), '{"value":10}');
    assert.equal(payloadOf(`${N}/tank/3/Level`), '{"value":55.0}');
    assert.equal(payloadOf(`${N}/battery/512/Soc`), '{"value":50.5}');
    assert.ok(!fx.engine.cache.services.has('com.victronenergy.meteo.hung'), 'the hung service stays unknown');
    assert.ok(fx.logs.some((l) => l.startsWith('error scan of com.victronenergy.meteo.hung failed')), fx.logs.join('\n'));
    await assert.rejects(fx.engine.read({ type: 'meteo', instance: '1', path: '/Irradiance' }), /can't find a D-Bus service for meteo\/1/);
  } finally {
    await fx.close();
  }
});

test('a signal that arrives while the scan is running is not lost (D14)', async () => {
  const fx = await startEngineFixture();
  const raw = new RawService('com.victronenergy.solarcharger.slow');
  raw.items = { '/DeviceInstance': { Value: new Variant('i', 5) }, '/Yield/Power': { Value: new Variant('d', 1) } };
  raw.onGetItems = (msg) => {
    // The service signals a path its GetItems answer does not list, then answers late.
    raw.signal('/', 'ItemsChanged', 'a{sa{sv}}', [{ '/Pv/V': { Value: new Variant('d', 80) } }]);
    setTimeout(() => raw.reply(msg, 'a{sa{sv}}', [raw.items]), 200);
  };
  try {
    fx.engine.keepaliveRequest('');
    await raw.connect(fx.bus.address);
    await fx.waitPublished((m) => m.topic === `${N}/solarcharger/5/Pv/V`);
    assert.equal(fx.published.find((m) => m.topic === `${N}/solarcharger/5/Pv/V`)!.payload, '{"value":80.0}');
    assert.ok(fx.published.some((m) => m.topic === `${N}/solarcharger/5/Yield/Power`), 'scanned items published when alive (D9)');
  } finally {
    raw.disconnect();
    await fx.close();
  }
});

test('a service that leaves (cleanly or by crashing) empties its topics, alive or not (§11.3 20, S1, S5)', async () => {
  const fx = await startEngineFixture({
    beforeStart: async (sim) => {
      await sim.addService(battery());
      await sim.addService({ name: 'com.victronenergy.system', paths: { '/Serial': new Variant('s', PORTAL), '/Dc/Battery/Soc': new Variant('d', 50) } });
      await sim.addService({ name: 'com.victronenergy.grid.a', paths: { '/DeviceInstance': new Variant('i', 30), '/Ac/Power': new Variant('d', 5) } });
    },
  });
  try {
    assert.deepEqual(fx.published.filter((m) => m.retain).map((m) => [m.topic, m.payload]),
      [[`${N}/system/0/Serial`, `{"value":"${PORTAL}"}`]], 'system/0/Serial is published retained at scan, not alive (N7)');
    fx.published.length = 0;
    await fx.sim.removeService('com.victronenergy.battery.ttyO1');
    await waitUntil(() => fx.published.length === 2);
    assert.deepEqual(fx.published.map((m) => [m.topic, m.payload, m.retain]).sort(),
      [[`${N}/battery/512/DeviceInstance`, '', false], [`${N}/battery/512/Soc`, '', false]]);
    assert.ok(!fx.engine.cache.route('battery', '512'));
    await assert.rejects(fx.engine.read({ type: 'battery', instance: '512', path: '/Soc' }), /can't find/);
    fx.published.length = 0;
    await fx.sim.crashService('com.victronenergy.grid.a');
    await waitUntil(() => fx.published.length === 2);
    assert.ok(fx.published.every((m) => m.payload === '' && m.topic.startsWith(`${N}/grid/30/`)));
    fx.published.length = 0;
    await fx.sim.removeService('com.victronenergy.system');
    await waitUntil(() => !fx.engine.cache.services.has('com.victronenergy.system'));
    await sleep(50);
    assert.deepEqual(fx.published.map((m) => m.topic), [`${N}/system/0/Dc/Battery/Soc`], 'never an empty system/0/Serial');
    // It comes back while alive: all its items are published (S5).
    fx.engine.keepaliveRequest('{"keepalive-options":["suppress-republish"]}');
    fx.published.length = 0;
    await fx.sim.addService(battery());
    await fx.waitPublished((m) => m.topic === `${N}/battery/512/Soc`);
    assert.ok(fx.published.some((m) => m.topic === `${N}/battery/512/DeviceInstance`));
  } finally {
    await fx.close();
  }
});

// I6 deliberately changed (issue 14 #8): the first service keeps the route until it leaves
// (F: the last scanned wins), and a removal shows the other's values instead of emptying them.
test('two services on one type/instance share topics; R/W go to the first until it leaves; a removal never empties the other\'s topics (§11.3 42)', async () => {
  const fx = await startEngineFixture({ beforeStart: async (sim) => { await sim.addService(battery()); } });
  try {
    await fx.sim.addService({ ...battery({ '/Soc': new Variant('d', 60) }), name: 'com.victronenergy.battery.ttyO2' });
    await fx.waitService('com.victronenergy.battery.ttyO2');
    assert.equal(fx.engine.cache.route('battery', '512')!.name, 'com.victronenergy.battery.ttyO1', 'the first keeps the route');
    const w = await fx.engine.writeJson({ type: 'battery', instance: '512', path: '/Soc' }, '{"value":42}', 'flow');
    assert.ok(w.ok, w.error);
    assert.equal(fx.sim.service('com.victronenergy.battery.ttyO1')!.getValue('/Soc')!.value, 42);
    assert.equal(fx.sim.service('com.victronenergy.battery.ttyO2')!.getValue('/Soc')!.value, 60);
    await waitUntil(() => fx.engine.cache.services.get('com.victronenergy.battery.ttyO1')!.items.get('/Soc')!.value === 42);
    fx.engine.keepaliveRequest('{"keepalive-options":["suppress-republish"]}');
    fx.published.length = 0;
    await fx.sim.removeService('com.victronenergy.battery.ttyO1');
    await waitUntil(() => !fx.engine.cache.services.has('com.victronenergy.battery.ttyO1'));
    assert.equal(fx.engine.cache.route('battery', '512')!.name, 'com.victronenergy.battery.ttyO2', 'the survivor takes the route');
    assert.deepEqual(fx.published.map((m) => [m.topic, m.payload]).sort(),
      [[`${N}/battery/512/DeviceInstance`, '{"value":512}'], [`${N}/battery/512/Soc`, '{"value":60.0}']],
      'the shared topics show the survivor\'s values, never an empty payload');
  } finally {
    await fx.close();
  }
});

test('portal ID from com.victronenergy.system /Serial when not set (N9)', async () => {
  const fx = await startEngineFixture({
    engine: { portalId: undefined },
    beforeStart: async (sim) => {
      await sim.addService({ name: 'com.victronenergy.system', paths: { '/Serial': new Variant('s', 'aabbccddeeff') } });
    },
  });
  try {
    await waitUntil(() => fx.engine.portalId === 'aabbccddeeff');
    assert.ok(fx.published.some((m) => m.topic === 'N/aabbccddeeff/system/0/Serial' && m.retain));
  } finally {
    await fx.close();
  }
});

test('D-Bus over TCP with ANONYMOUS auth, host:port form', async () => {
  const { startPrivateBus } = await import('../support/dbus-daemon');
  const bus = await startPrivateBus({ tcp: true });
  const fx = await startEngineFixture({ bus, tracker: { address: `127.0.0.1:${bus.tcpPort}` },
    beforeStart: async (sim) => { await sim.addService(battery()); } });
  try {
    assert.equal(fx.tracker.address.address, `tcp:host=127.0.0.1,port=${bus.tcpPort}`);
    assert.equal(fx.engine.cache.services.size, 1);
  } finally {
    await fx.close();
    await bus.stop();
  }
});

test('the bus goes away and comes back: reconnect with backoff and a complete rebuild', async () => {
  const fx = await startEngineFixture({ beforeStart: async (sim) => { await sim.addService(battery()); } });
  const states: string[] = [];
  fx.engine.on('state', (s: string) => states.push(s));
  try {
    fx.published.length = 0;
    await fx.bus.restart();
    await waitUntil(() => fx.tracker.state === 'connected', 10000, 'reconnect');
    assert.ok(states.includes('disconnected') && states.includes('connecting'), states.join(','));
    assert.equal(fx.engine.cache.services.size, 0, 'the services went with the bus');
    assert.ok(fx.published.some((m) => m.topic === `${N}/battery/512/Soc` && m.payload === ''), 'their topics were emptied');
    // services come back on the new bus
    const again = new (await import('../../src/sim')).GxSimulator({ address: fx.bus.address });
    await again.addService(battery({ '/Soc': new Variant('d', 77) }));
    await fx.waitService('com.victronenergy.battery.ttyO1');
    fx.engine.keepaliveRequest('');
    assert.ok(fx.published.some((m) => m.topic === `${N}/battery/512/Soc` && m.payload === '{"value":77.0}'));
    await again.stop();
  } finally {
    await fx.close();
  }
});

test('a service replugged under the same name with other paths: the old items go, the new ones come', async () => {
  const fx = await startEngineFixture({ beforeStart: async (sim) => { await sim.addService(battery({ '/Old/Path': new Variant('i', 1) })); } });
  try {
    fx.engine.keepaliveRequest('');
    const firstOwner = fx.sim.service('com.victronenergy.battery.ttyO1')!.uniqueName;
    await fx.sim.crashService('com.victronenergy.battery.ttyO1');
    await waitUntil(() => !fx.engine.cache.services.has('com.victronenergy.battery.ttyO1'));
    fx.published.length = 0;
    const again = await fx.sim.addService({ name: 'com.victronenergy.battery.ttyO1',
      paths: { '/DeviceInstance': new Variant('u', 512), '/New/Path': new Variant('d', 2) } });
    assert.notEqual(again.uniqueName, firstOwner);
    await fx.waitPublished((m) => m.topic === `${N}/battery/512/New/Path`);
    const items = [...fx.engine.cache.services.get('com.victronenergy.battery.ttyO1')!.items.keys()].sort();
    assert.deepEqual(items, ['/DeviceInstance', '/New/Path']);
    await assert.rejects(fx.engine.writeJson({ type: 'battery', instance: '512', path: '/Old/Path' }, '{"value":2}', 'flow')
      .then((r) => { if (!r.ok) throw new Error(r.error); }), /not a known item/);
  } finally {
    await fx.close();
  }
});

test("the service's own text: from GetItems, ItemsChanged and PropertiesChanged; dropped when a value comes without one", async () => {
  const fx = await startEngineFixture();
  const raw = new RawService('com.victronenergy.solarcharger.textual');
  raw.items = {
    '/DeviceInstance': { Value: new Variant('i', 279), Text: new Variant('s', '279') },
    '/State': { Value: new Variant('i', 3), Text: new Variant('s', 'Bulk') },
    '/Dc/0/Voltage': { Value: new Variant('d', 57.04), Text: new Variant('s', '57.04V') },
  };
  try {
    await raw.connect(fx.bus.address);
    await fx.waitService(raw.name);
    const items = () => fx.engine.cache.services.get(raw.name)!.items;
    assert.equal(items().get('/State')!.text, 'Bulk');
    assert.equal(items().get('/Dc/0/Voltage')!.text, '57.04V');
    raw.signal('/', 'ItemsChanged', 'a{sa{sv}}', [{ '/State': { Value: new Variant('i', 4), Text: new Variant('s', 'Absorption') } }]);
    await waitUntil(() => items().get('/State')!.value === 4);
    assert.equal(items().get('/State')!.text, 'Absorption');
    raw.signal('/Dc/0/Voltage', 'PropertiesChanged', 'a{sv}', [{ Value: new Variant('d', 57.1), Text: new Variant('s', '57.10V') }]);
    await waitUntil(() => items().get('/Dc/0/Voltage')!.value === 57.1);
    assert.equal(items().get('/Dc/0/Voltage')!.text, '57.10V');
    raw.signal('/Dc/0/Voltage', 'PropertiesChanged', 'a{sv}', [{ Value: new Variant('d', 58) }]);
    await waitUntil(() => items().get('/Dc/0/Voltage')!.value === 58);
    assert.equal(items().get('/Dc/0/Voltage')!.text, undefined, 'a text for 57.10 is not shown beside 58');
    assert.equal(fx.engine.cache.services.get(raw.name)!.payloadOf(items().get('/State')!), '{"value":4}', 'no text in payloads (N2)');
  } finally {
    raw.disconnect();
    await fx.close();
  }
});

test('D-Bus gone: the heartbeat stops, as it says that the GX lives (K7; the bridge stays alive); the bus back and scanned: it runs again', async () => {
  const fx = await startEngineFixture({
    engine: { timing: { heartbeatMs: 100 } },
    tracker: { reconnectMinMs: 100, reconnectMaxMs: 200 },
    beforeStart: async (sim) => { await sim.addService(battery()); },
  });
  const beats = () => fx.published.filter((m) => m.topic === `${N}/heartbeat`).length;
  try {
    fx.engine.keepaliveRequest('{"keepalive-options":["suppress-republish"]}');
    await waitUntil(() => beats() >= 2, 5000, 'heartbeats');
    await fx.bus.kill();
    await waitUntil(() => fx.tracker.state !== 'connected', 5000, 'disconnected');
    let n = beats();
    await sleep(700); // seven heartbeat periods
    assert.equal(beats(), n, 'no heartbeat without the D-Bus');
    assert.equal(fx.engine.alive, true);
    n = beats();
    await fx.bus.restart();
    await waitUntil(() => fx.tracker.state === 'connected' && beats() > n, 15000, 'the heartbeat back with the bus');
  } finally {
    await fx.close();
  }
});
