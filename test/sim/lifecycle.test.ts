// Services appearing, disappearing (clean and crash), coming back, and the simulator stopping
// without leaving sockets or timers behind.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { startPrivateBus } from '../support/dbus-daemon';
import { GxSimulator, Variant } from '../../src/sim';
import type { ServiceDef } from '../../src/sim';
import { Client, dbusSend, delay, isItemsChanged, isOwnerChange } from './helpers';

const NAME = 'com.victronenergy.pvinverter.lifecycle';
const defA: ServiceDef = { name: NAME, paths: { '/DeviceInstance': { type: 'i', value: 20 }, '/Ac/Power': { type: 'd', value: 100 } } };
const defB: ServiceDef = { name: NAME, paths: { '/DeviceInstance': { type: 'i', value: 21 }, '/Ac/L1/Power': { type: 'd', value: 5 } } };

async function nameOwner(client: Client, name: string): Promise<string | undefined> {
  try {
    const r = await client.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'GetNameOwner', 's', [name], 'org.freedesktop.DBus');
    return r.body[0] as string;
  } catch {
    return undefined;
  }
}

test('clean removal and crash both end in NameOwnerChanged(name, old, ""), and the service can come back', async () => {
  const bus = await startPrivateBus();
  const sim = new GxSimulator({ address: bus.address });
  const client = await Client.connect(bus.address);
  try {
    await client.watch();
    const first = await sim.addService(defA);
    assert.match(first.uniqueName, /^:\d+\.\d+$/);
    assert.equal(await nameOwner(client, NAME), first.uniqueName);
    await client.waitFor(isOwnerChange(NAME, (o, n) => o === '' && n === first.uniqueName));

    // clean removal
    await sim.removeService(NAME);
    await client.waitFor(isOwnerChange(NAME, (o, n) => o === first.uniqueName && n === ''));
    assert.equal(await nameOwner(client, NAME), undefined);
    assert.equal(sim.service(NAME), undefined);
    // the unique name is gone too
    await client.waitFor(isOwnerChange(first.uniqueName, (o, n) => o === first.uniqueName && n === ''));

    // back, with other paths, under a new unique name
    const second = await sim.addService(defB);
    assert.notEqual(second.uniqueName, first.uniqueName);
    await client.waitFor(isOwnerChange(NAME, (o, n) => o === '' && n === second.uniqueName));
    const items = (await client.call(NAME, '/', 'GetItems')).body[0] as Record<string, { Value: Variant }>;
    assert.deepEqual(Object.keys(items), ['/DeviceInstance', '/Ac/L1/Power']);
    assert.deepEqual(items['/DeviceInstance'].Value, new Variant('i', 21));

    // crash: the socket just goes away
    await sim.crashService(NAME);
    await client.waitFor(isOwnerChange(NAME, (o, n) => o === second.uniqueName && n === ''));
    assert.equal(await nameOwner(client, NAME), undefined);
    const r = await dbusSend(bus.address, ['--print-reply', `--dest=${NAME}`, '/Ac/L1/Power', 'com.victronenergy.BusItem.GetValue']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ServiceUnknown|NameHasNoOwner/);

    // and back right after the crash
    const third = await sim.addService(defA);
    await client.waitFor(isOwnerChange(NAME, (o, n) => o === '' && n === third.uniqueName));
    assert.deepEqual(await client.getValue(NAME, '/Ac/Power'), new Variant('d', 100));
    assert.equal(third.connected, true);
    assert.equal(second.connected, false);
    // a crashed service's handle doesn't send anything any more
    client.clear();
    second.setValue('/Ac/L1/Power', 6);
    assert.deepEqual(await client.collect(isItemsChanged, 100), []);
  } finally {
    await client.close();
    await sim.stop();
    await bus.stop();
  }
});

test('adding a name that is already running in the simulator is refused', async () => {
  const bus = await startPrivateBus();
  const sim = new GxSimulator({ address: bus.address });
  try {
    await sim.addService(defA);
    await assert.rejects(sim.addService(defB), /already running/);
    await assert.rejects(sim.removeService('com.victronenergy.nope'), /not running/);
  } finally {
    await sim.stop();
    await bus.stop();
  }
});

test('a service whose bus dies is reported as lost and the simulator still stops', async () => {
  const bus = await startPrivateBus();
  const sim = new GxSimulator({ address: bus.address });
  try {
    const svc = await sim.addService(defA);
    const lost = new Promise((resolve) => sim.once('serviceLost', resolve));
    await bus.stop();
    assert.equal(await lost, svc);
    assert.equal(sim.services().length, 0);
    svc.setValue('/Ac/Power', 1); // must not throw
  } finally {
    await sim.stop();
    await bus.stop();
  }
});

test('stop() closes every connection and timer (nothing keeps the process alive)', async () => {
  const bus = await startPrivateBus({ tcp: true });
  const client = await Client.connect(bus.address);
  await delay(50);
  const count = (t: string) => process.getActiveResourcesInfo().filter((r) => r === t).length;
  const before = { pipes: count('PipeWrap'), tcp: count('TCPSocketWrap'), timers: count('Timeout'), immediates: count('Immediate') };
  const sim = new GxSimulator({ address: bus.tcpAddress! });
  try {
    const svc = await sim.addService({ ...defA, changes: [{ at: 0.05, path: '/Ac/Power', value: 1 }, { at: 0.1, path: '/Ac/Power', value: 2 }] });
    await sim.addService({ name: 'com.victronenergy.hang.x', paths: { '/A': 1 }, options: { hang: true } });
    assert.equal(count('TCPSocketWrap'), before.tcp + 2, 'one TCP connection per service');
    sim.startReplay({ speed: 1 });
    sim.startChanges({ valuesPerSecond: 100, services: [NAME] });
    // a call that never gets its reply must not hold anything either
    void client.call('com.victronenergy.hang.x', '/', 'GetItems', '', [], undefined, 200).catch(() => undefined);
    svc.setValue('/Ac/Power', 5);
    await delay(20);
  } finally {
    await sim.stop();
  }
  await delay(250); // the client's own 200 ms timeout above
  assert.equal(count('TCPSocketWrap'), before.tcp);
  assert.equal(count('PipeWrap'), before.pipes);
  assert.equal(count('Timeout'), before.timers);
  assert.equal(count('Immediate'), before.immediates);
  await client.close();
  await bus.stop();
});

test('addService on an address where no bus listens rejects and leaves no socket behind', async () => {
  const count = () => process.getActiveResourcesInfo().filter((r) => r === 'PipeWrap' || r === 'TCPSocketWrap').length;
  const before = count();
  const sim = new GxSimulator({ address: 'unix:path=/nonexistent/gx-sim-test.sock', timeoutMs: 2000 });
  await assert.rejects(sim.addService(defA), /ENOENT|connection closed/);
  assert.equal(sim.services().length, 0);
  await sim.stop();
  await delay(20);
  assert.ok(count() <= before, `${count()} sockets open, ${before} before`);
});

test('crash and re-add at once, five times: the new connection gets the name each time', async () => {
  const bus = await startPrivateBus();
  const sim = new GxSimulator({ address: bus.address });
  const client = await Client.connect(bus.address);
  try {
    let prev = await sim.addService(defA);
    for (let i = 0; i < 5; i++) {
      await sim.crashService(NAME);
      const next = await sim.addService(i % 2 ? defA : defB);
      assert.notEqual(next.uniqueName, prev.uniqueName);
      assert.equal(await nameOwner(client, NAME), next.uniqueName);
      prev = next;
    }
  } finally {
    await client.close();
    await sim.stop();
    await bus.stop();
  }
});

test('after a dbus-daemon restart, snapshot() puts a lost service back with its current values', async () => {
  const bus = await startPrivateBus();
  const sim = new GxSimulator({ address: bus.address });
  try {
    const svc = await sim.addService(defA);
    svc.setValue('/Ac/Power', 321.5);
    svc.setValue('/Ac/Extra', 'x');
    const lost = new Promise((resolve) => sim.once('serviceLost', resolve));
    await bus.restart();
    await lost;
    const again = await sim.addService(svc.snapshot());
    const client = await Client.connect(bus.address);
    try {
      const items = (await client.call(NAME, '/', 'GetItems')).body[0] as Record<string, { Value: Variant }>;
      assert.deepEqual(Object.keys(items), ['/DeviceInstance', '/Ac/Power', '/Ac/Extra']);
      assert.deepEqual(items['/Ac/Power'].Value, new Variant('d', 321.5));
      assert.equal(again.getType('/Ac/Power'), 'd');
    } finally {
      await client.close();
    }
  } finally {
    await sim.stop();
    await bus.stop();
  }
});

test('a name held by another connection: addService waits for it (queued), or times out', async () => {
  const bus = await startPrivateBus();
  const sim = new GxSimulator({ address: bus.address, timeoutMs: 1500 });
  const other = await Client.connect(bus.address);
  try {
    assert.equal(await other.bus.requestName(NAME, 0), 1);
    const adding = sim.addService(defA);
    await delay(200);
    assert.equal(await nameOwner(other, NAME), other.uniqueName);
    await other.bus.releaseName(NAME);
    const svc = await adding;
    assert.equal(await nameOwner(other, NAME), svc.uniqueName);
    await sim.removeService(NAME);

    assert.equal(await other.bus.requestName(NAME, 0), 1);
    await assert.rejects(sim.addService(defA), /owned by another connection: timed out/);
    assert.equal(sim.service(NAME), undefined);
  } finally {
    await other.close();
    await sim.stop();
    await bus.stop();
  }
});
