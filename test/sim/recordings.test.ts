// The five ESS recordings and the two tank recordings on a private bus, seen by dbus-send and
// by a dbus-next client; replay of recorded changes in time, with speed, looping and stop.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { startPrivateBus, PrivateBus } from '../support/dbus-daemon';
import { GxSimulator, Variant, loadRecording } from '../../src/sim';
import type { ServiceDef } from '../../src/sim';
import type { Message } from 'dbus-next';
import { Client, ESS_RECORDINGS, TANK_RECORDINGS, dbusSend, delay, isItemsChanged } from './helpers';

type Items = Record<string, Record<string, Variant>>;

describe('ESS + tank recordings', () => {
  let bus: PrivateBus;
  let sim: GxSimulator;
  let client: Client;

  before(async () => {
    bus = await startPrivateBus({ tcp: true });
    sim = new GxSimulator({ address: bus.address });
    await sim.addServices([...ESS_RECORDINGS, ...TANK_RECORDINGS].map(loadRecording));
    client = await Client.connect(bus.address);
    await client.watch();
  });

  after(async () => {
    await client?.close();
    await sim?.stop();
    await bus?.stop();
  });

  test('all seven services are on the bus (ListNames)', async () => {
    const names = (await client.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'ListNames', '', [], 'org.freedesktop.DBus')).body[0] as string[];
    for (const n of ['com.victronenergy.vebus.ttyO1', 'com.victronenergy.solarcharger.ttyO2', 'com.victronenergy.battery.ttyO0',
      'com.victronenergy.grid.cgwacs_ttyUSB0_di30_mb1', 'com.victronenergy.pvinverter.cgwacs_ttyUSB0_di32_mb2',
      'com.victronenergy.tank.socketcan_can0_di2_uc69', 'com.victronenergy.tank.socketcan_can0_di3_uc69']) {
      assert.ok(names.includes(n), n);
    }
  });

  test('dbus-send GetItems on the battery: /Soc double, /DeviceInstance 256 (unix and tcp)', async () => {
    for (const addr of [bus.address, bus.tcpAddress!]) {
      const r = await dbusSend(addr, ['--print-reply', '--dest=com.victronenergy.battery.ttyO0', '/', 'com.victronenergy.BusItem.GetItems']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /string "\/Soc"\s+array \[\s+dict entry\(\s+string "Value"\s+variant\s+double 100\s/);
      assert.match(r.stdout, /string "\/DeviceInstance"\s+array \[\s+dict entry\(\s+string "Value"\s+variant\s+uint32 256\s/);
      assert.match(r.stdout, /string "\/Dc\/0\/Voltage"[\s\S]*?string "Text"\s+variant\s+string "56.98V"/);
    }
  });

  test('GetItems of every ESS recording: the recorded types (int vs double vs string vs invalid vs ay)', async () => {
    const get = async (n: string) => (await client.call(n, '/', 'GetItems')).body[0] as Items;
    const vebus = await get('com.victronenergy.vebus.ttyO1');
    assert.deepEqual(vebus['/DeviceInstance'].Value, new Variant('q', 257));
    assert.equal(vebus['/Hub4/L1/AcPowerSetpoint'].Value.signature, 'i');
    assert.equal(vebus['/ProductName'].Value.signature, 's');
    assert.equal(vebus['/Hub4/AssistantId'].Text.value, 'ESS');
    const sc = await get('com.victronenergy.solarcharger.ttyO2');
    assert.deepEqual(sc['/DeviceInstance'].Value.value, 258);
    const raw = sc['/History/Daily/5/Raw'].Value;
    assert.equal(raw.signature, 'ay');
    assert.ok(Buffer.isBuffer(raw.value) && raw.value.length === 40);
    assert.equal(sc['/History/Daily/5/Raw'].Text.value, 'buffer (40 bytes)');
    const bat = await get('com.victronenergy.battery.ttyO0');
    assert.deepEqual(bat['/TimeToGo'].Value, new Variant('ai', []));
    assert.deepEqual(bat['/Alarms/HighTemperature'].Value, new Variant('u', 0));
    assert.deepEqual(bat['/Dc/0/Voltage'].Value, new Variant('d', 56.9799995422));
    assert.equal(Object.keys(bat).length, 51);
    const grid = await get('com.victronenergy.grid.cgwacs_ttyUSB0_di30_mb1');
    assert.equal(grid['/DeviceInstance'].Value.value, 30);
    assert.equal(grid['/CustomName'].Value.value, 'Grid meter');
    const pv = await get('com.victronenergy.pvinverter.cgwacs_ttyUSB0_di32_mb2');
    assert.equal(pv['/DeviceInstance'].Value.value, 32);
    const tank = await get('com.victronenergy.tank.socketcan_can0_di2_uc69');
    assert.deepEqual(tank['/ProductId'].Value, new Variant('q', 41312));
    assert.equal(tank['/ProductId'].Text.value, '0xA160');
  });

  test('writing an ESS setpoint: int to the int32 item accepted and signalled; 1.5 refused', async () => {
    const vebus = 'com.victronenergy.vebus.ttyO1';
    client.clear();
    assert.equal(await client.setValue(vebus, '/Hub4/L1/AcPowerSetpoint', new Variant('d', -150)), 0);
    assert.deepEqual(await client.getValue(vebus, '/Hub4/L1/AcPowerSetpoint'), new Variant('i', -150));
    // recordings use the default signal mode: one ItemsChanged per batch of changes
    const ic = await client.waitFor((m) => m.member === 'ItemsChanged' && '/Hub4/L1/AcPowerSetpoint' in (m.body[0] as object));
    assert.deepEqual((ic.body[0] as Record<string, Record<string, Variant>>)['/Hub4/L1/AcPowerSetpoint'].Value, new Variant('i', -150));
    assert.equal(await client.setValue(vebus, '/Hub4/L1/AcPowerSetpoint', new Variant('d', 1.5)), 1);
    // an invalid (ARRAY) item of a recording has no fixed type: takes what is written
    assert.equal(await client.setValue('com.victronenergy.battery.ttyO0', '/TimeToGo', new Variant('d', 3600)), 0);
    assert.deepEqual(await client.getValue('com.victronenergy.battery.ttyO0', '/TimeToGo'), new Variant('d', 3600));
  });
});

describe('replay', () => {
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

  test('a recorded change arrives as ItemsChanged in time (tank: /Level turns INT32 at 10 s)', async () => {
    const def = loadRecording(TANK_RECORDINGS[0]);
    const svc = await sim.addService(def);
    client.clear();
    const t0 = Date.now();
    assert.equal(svc.startReplay({ speed: 20 }), true);
    const from = (m: Message) => m.sender === svc.uniqueName;
    const ic = await client.waitFor((m) => from(m) && isItemsChanged(m) && (m.body[0] as Items)['/Level']?.Value.signature === 'i', 3000);
    const took = Date.now() - t0;
    assert.deepEqual((ic.body[0] as Items)['/Level'], { Value: new Variant('i', 18), Text: new Variant('s', '18%') });
    assert.ok(took >= 400 && took < 1500, `the 10 s change came after ${took} ms at speed 20`);
    // the changes at 0 s and 1 s repeat the initial values: as velib, nothing is sent for them
    const before = client.signals.filter((m) => from(m) && isItemsChanged(m) && client.signals.indexOf(m) < client.signals.indexOf(ic));
    assert.deepEqual(before, []);
    assert.deepEqual(await client.getValue(def.name, '/Level'), new Variant('i', 18));
    svc.stopReplay();
    assert.equal(svc.replaying, false);
    await sim.removeService(def.name);
  });

  test('changes of one instant go in one ItemsChanged; a path twice in one second is sent twice', async () => {
    const def = loadRecording(ESS_RECORDINGS[2]); // battery: second 1 has /Dc/0/Power, /Dc/0/Current, /Dc/0/Power
    const svc = await sim.addService(def);
    client.clear();
    svc.startReplay({ speed: 10 });
    await delay(160);
    svc.stopReplay();
    const got = client.signals.filter((m) => m.sender === svc.uniqueName && isItemsChanged(m)).map((m) => m.body[0] as Items);
    assert.ok(got.length >= 2, `got ${got.length} ItemsChanged`);
    assert.deepEqual(Object.keys(got[0]).sort(), ['/Dc/0/Current', '/Dc/0/Power']);
    assert.deepEqual(got[0]['/Dc/0/Power'].Value, new Variant('d', 466.989990234));
    assert.deepEqual(got[0]['/Dc/0/Current'], { Value: new Variant('d', 8.19999980927), Text: new Variant('s', '8.2A') });
    assert.deepEqual(got[1], { '/Dc/0/Power': { Value: new Variant('d', 461.295013428), Text: new Variant('s', '461W') } });
    await sim.removeService(def.name);
  });

  test('looping starts again after loopAfter; --no-loop stops at the end; stopReplay stops', async () => {
    const def: ServiceDef = {
      name: 'com.victronenergy.test.loop',
      paths: { '/X': { type: 'i', value: 0 } },
      changes: [{ at: 0.05, path: '/X', value: 1 }, { at: 0.1, path: '/X', value: 2 }],
      loopAfter: 0.15,
    };
    const svc = await sim.addService(def);
    try {
      const from = (m: Message) => m.sender === svc.uniqueName && isItemsChanged(m);
      const xs = () => client.signals.filter(from).map((m) => ((m.body[0] as Items)['/X'].Value.value));
      let loops = 0;
      svc.on('replayLoop', () => loops++);
      client.clear();
      svc.startReplay({ speed: 1, loop: true });
      await delay(500);
      svc.stopReplay();
      await delay(30);
      const looped = xs();
      assert.ok(loops >= 2, `${loops} loops`);
      assert.ok(looped.length >= 5, `values ${looped}`);
      assert.deepEqual(looped.slice(0, 5), [1, 2, 1, 2, 1]);
      client.clear();
      await delay(200);
      assert.deepEqual(xs(), [], 'nothing after stopReplay');

      // the loop stopped at 1 or at 2: back to 0 quietly, so that the run once changes /X twice
      // (an equal value is not signalled)
      svc.setValue('/X', 0, { signal: false });
      const ended = new Promise((r) => svc.once('replayEnd', r));
      svc.startReplay({ speed: 2, loop: false });
      await ended;
      await delay(150);
      assert.deepEqual(xs(), [1, 2]);
      assert.equal(svc.replaying, false);
    } finally {
      await sim.removeService(def.name);
    }
  });

  test('GxSimulator.startReplay starts every service with recorded changes', async () => {
    await sim.addServices([loadRecording(TANK_RECORDINGS[1]), { name: 'com.victronenergy.test.static', paths: { '/A': 1 } }]);
    assert.equal(sim.startReplay({ speed: 50 }), 1);
    const svc = sim.service('com.victronenergy.tank.socketcan_can0_di2_uc69')!;
    assert.equal(svc.replaying, true);
    sim.stopReplay();
    assert.equal(svc.replaying, false);
  });
});
