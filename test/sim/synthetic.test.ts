// The synthetic system generator and the change generator used by benchmarks.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { startPrivateBus } from '../support/dbus-daemon';
import { GxSimulator, Variant, syntheticSystem } from '../../src/sim';
import type { ChangeBatch } from '../../src/sim';
import { Client, delay, isItemsChanged, isPropertiesChanged } from './helpers';
import { waitUntil } from '../support/engine-fixture';

type Items = Record<string, Record<string, Variant>>;

test('synthetic 5 × 200: every service answers GetItems with its DeviceInstance and mixed types', async () => {
  const bus = await startPrivateBus();
  const sim = new GxSimulator({ address: bus.address });
  const client = await Client.connect(bus.address);
  try {
    await sim.addServices(syntheticSystem(5, 200));
    for (let i = 0; i < 5; i++) {
      const items = (await client.call(`com.victronenergy.synthetic.s${i}`, '/', 'GetItems')).body[0] as Items;
      assert.equal(Object.keys(items).length, 200);
      assert.deepEqual(items['/DeviceInstance'].Value, new Variant('i', i));
      const sigs = new Set(Object.values(items).map((e) => e.Value.signature));
      assert.deepEqual([...sigs].sort(), ['d', 'i', 's']);
    }
    const g3 = (await client.getValue('com.victronenergy.synthetic.s2', '/G3')).value as Record<string, Variant>;
    assert.equal(Object.keys(g3).length, 50);
  } finally {
    await client.close();
    await sim.stop();
    await bus.stop();
  }
});

test('startChanges: rate, batches of N in one ItemsChanged, timestamps as values, counts', async () => {
  const bus = await startPrivateBus();
  const sim = new GxSimulator({ address: bus.address });
  const client = await Client.connect(bus.address);
  try {
    await client.watch();
    await sim.addServices(syntheticSystem(4, 50, { signals: 'items' }));
    const batches: ChangeBatch[] = [];
    const t0 = Date.now();
    const gen = sim.startChanges({ valuesPerSecond: 400, batch: 5, onBatch: (b) => batches.push(b) });
    await delay(500);
    gen.stop();
    const seconds = (Date.now() - t0) / 1000;
    // every batch sent reaches the client (later on a loaded machine)
    await waitUntil(() => client.signals.filter(isItemsChanged).length >= gen.stats.batches, 5000, 'every batch received');
    const got = client.signals.filter(isItemsChanged);
    assert.equal(client.signals.filter((m) => isPropertiesChanged(m)).length, 0, "signals: 'items'");
    assert.equal(gen.stats.batches, batches.length);
    assert.equal(got.length, gen.stats.batches, 'one ItemsChanged per batch');
    assert.equal(gen.stats.values, gen.stats.batches * 5);
    // 400 values/s for ~0.5 s → ~200 values (timers may run late on a loaded machine, never early)
    assert.ok(gen.stats.values >= 120 && gen.stats.values <= 400 * seconds * 1.1 + 10, `${gen.stats.values} values in ${seconds} s`);
    const senders = new Set(got.map((m) => m.sender));
    assert.equal(senders.size, 4, 'round robin over the services');
    for (const [k, m] of got.entries()) {
      const entries = Object.entries(m.body[0] as Items);
      assert.equal(entries.length, 5);
      for (const [p, e] of entries) {
        assert.match(p, /^\/G\d+\/D\d+$/, 'timestamp mode changes double paths');
        assert.equal(e.Value.signature, 'd');
        assert.equal(e.Value.value, batches[k].at);
      }
      const at = batches[k].at;
      assert.ok(Math.abs(at - Date.now()) < 5000, 'value is a ms timestamp');
    }
    // nothing after stop
    client.clear();
    await delay(100);
    assert.equal(client.signals.filter(isItemsChanged).length, 0);
  } finally {
    await client.close();
    await sim.stop();
    await bus.stop();
  }
});

test('startChanges sequence mode changes every type; maxValues stops it', async () => {
  const bus = await startPrivateBus();
  const sim = new GxSimulator({ address: bus.address });
  const client = await Client.connect(bus.address);
  try {
    await client.watch();
    const [svc] = await sim.addServices(syntheticSystem(1, 11));
    const gen = sim.startChanges({ valuesPerSecond: 1000, batch: 10, mode: 'sequence', maxValues: 10 });
    const ic = await client.waitFor(isItemsChanged);
    await delay(50);
    assert.equal(gen.running, false);
    assert.equal(gen.stats.values, 10);
    const items = ic.body[0] as Items;
    assert.equal(Object.keys(items).length, 10);
    assert.ok(!('/DeviceInstance' in items));
    assert.deepEqual(new Set(Object.values(items).map((e) => e.Value.signature)), new Set(['d', 'i', 's']));
    assert.deepEqual(items['/G0/D1'].Value, new Variant('d', 1));
    // /G0/I6 was 6 already: the generator skips to 7 so that it is a change
    assert.deepEqual(items['/G0/I6'].Value, new Variant('i', 7));
    assert.deepEqual(items['/G0/S9'].Value, new Variant('s', 'v10'));
    assert.deepEqual(svc.getValue('/G0/S9'), new Variant('s', 'v10'));
  } finally {
    await client.close();
    await sim.stop();
    await bus.stop();
  }
});

test('scale: 100 services × 1000 paths, one connection and unique name each, full GetItems of all', async () => {
  const bus = await startPrivateBus();
  const sim = new GxSimulator({ address: bus.address });
  const client = await Client.connect(bus.address);
  try {
    let t = Date.now();
    const svcs = await sim.addServices(syntheticSystem(100, 1000));
    const addMs = Date.now() - t;
    assert.equal(new Set(svcs.map((s) => s.uniqueName)).size, 100);
    t = Date.now();
    const replies = await Promise.all(svcs.map((s) => client.call(s.name, '/', 'GetItems', '', [], undefined, 30000)));
    const scanMs = Date.now() - t;
    let total = 0;
    for (const [i, r] of replies.entries()) {
      const items = r.body[0] as Items;
      total += Object.keys(items).length;
      assert.deepEqual(items['/DeviceInstance'].Value, new Variant('i', i));
      assert.equal(r.sender, svcs[i].uniqueName);
    }
    assert.equal(total, 100 * 1000);
    console.log(`# 100×1000: added in ${addMs} ms, GetItems of all in ${scanMs} ms (client decoding included)`);
    assert.ok(addMs < 20000 && scanMs < 20000);
  } finally {
    await client.close();
    await sim.stop();
    await bus.stop();
  }
});
