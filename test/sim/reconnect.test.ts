// The simulator when its bus dies: like a Venus service restarted by its supervisor it exports
// its services again once a new dbus-daemon listens on the same address, with the values they
// had, replaying again; gx-sim keeps running meanwhile and says so once, not once per retry.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { startPrivateBus } from '../support/dbus-daemon';
import { startProcess, stopProcess } from '../support/processes';
import { waitUntil } from '../support/engine-fixture';
import { GxSimulator, loadRecording, Variant } from '../../src/sim';
import type { SimService } from '../../src/sim';
import { Client, dbusSend, fixture, isItemsChanged, repoRoot } from './helpers';

const CLI = path.join(repoRoot(), 'dist', 'src', 'cli', 'gx-sim.js');

test('GxSimulator with reconnect: the bus is killed and started again at the same address, the services come back as they were', async () => {
  const bus = await startPrivateBus();
  const sim = new GxSimulator({ address: bus.address, reconnect: true, reconnectMinMs: 100, reconnectMaxMs: 400 });
  const lost: string[] = [];
  const failed: number[] = [];
  const restored: SimService[] = [];
  sim.on('serviceLost', (s: SimService) => lost.push(s.name));
  sim.on('reconnectFailed', (_n: string, _e: Error, attempt: number) => failed.push(attempt));
  sim.on('serviceRestored', (s: SimService) => restored.push(s));
  try {
    const battery = await sim.addService(loadRecording(fixture('recordings', 'battery.csv')));
    await sim.addService({ name: 'com.victronenergy.settings', paths: { '/Settings/Gui/Brightness': { type: 'i', value: 5 } } });
    battery.startReplay({ speed: 20 });
    sim.service('com.victronenergy.settings')!.setValue('/Settings/Gui/Brightness', 9);
    await bus.stop();
    await waitUntil(() => lost.length === 2, 5000, 'both services lost');
    await waitUntil(() => failed.length >= 2, 5000, 'attempts while the bus is down');
    assert.equal(sim.services().length, 0);
    await bus.restart();
    await waitUntil(() => restored.length === 2, 10000, 'both services exported again');
    const client = await Client.connect(bus.address);
    try {
      assert.deepEqual(await client.getValue('com.victronenergy.settings', '/Settings/Gui/Brightness'), new Variant('i', 9),
        'the value it had when the bus died');
      assert.deepEqual((await client.getValue('com.victronenergy.battery.ttyO0', '/DeviceInstance')).value, 256);
      await client.watch();
      await client.waitFor((m) => isItemsChanged(m) && m.sender === sim.service('com.victronenergy.battery.ttyO0')!.uniqueName, 5000);
      assert.ok(sim.service('com.victronenergy.battery.ttyO0')!.replaying, 'replaying again');
    } finally {
      await client.close();
    }
  } finally {
    await sim.stop();
    await bus.stop();
  }
});

test('gx-sim keeps running when its bus dies, says so once, and exports its services again on the new bus', async () => {
  const bus = await startPrivateBus();
  const sim = await startProcess(process.execPath, [CLI, '--bus', bus.address, fixture('scenarios', 'basic.json')],
    (out) => out.includes('ready:'));
  try {
    const services = (sim.output().match(/^exported /gm) ?? []).length;
    assert.ok(services >= 2);
    await bus.stop();
    await waitUntil(() => sim.output().includes('gx-sim: lost the bus'), 5000, 'the outage is reported');
    await waitUntil(() => /not back yet: .*; retrying/.test(sim.output()), 10000, 'the reason is reported');
    assert.equal(sim.proc.exitCode, null, 'still running');
    await bus.restart();
    await waitUntil(() => sim.output().includes(`gx-sim: exported ${services} services again on ${bus.address}`), 20000, 'back');
    const r = await dbusSend(bus.address, ['--print-reply', '--dest=com.victronenergy.battery.scenario', '/DeviceInstance',
      'com.victronenergy.BusItem.GetValue']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /uint32 7/);
    const out = sim.output();
    assert.equal((out.match(/lost the bus/g) ?? []).length, 1, out);
    const reasons = out.match(/not back yet: .*/g) ?? [];
    assert.equal(new Set(reasons).size, reasons.length, `one line per distinct reason, not per retry:\n${out}`);
  } finally {
    await stopProcess(sim.proc);
    await bus.stop();
  }
});
