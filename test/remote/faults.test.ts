// The remote source when things go wrong: the GX's broker restarts, the GX goes quiet (its
// bridge stopped, or frozen with SIGSTOP), services vanish (with their empty payloads, or
// unseen while the GX was away), two GX share one broker, and a hostile client publishes
// garbage under the GX's portal ID.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { GxEngine } from '../../src/bridge/engine';
import { DbusServiceTracker } from '../../src/dbus/service-tracker';
import { tempDir } from '../support/processes';
import { publish } from '../support/mosquitto';
import { waitUntil } from '../support/engine-fixture';
import { GxBehindBroker, itemPayloads, RemoteEngine, startGxBehindBroker, startRemoteEngine } from '../support/remote-gx';

const FAST = { staleMs: 1500, scanFallbackMs: 3000, restartDelayMs: 300, readTimeoutMs: 2000, writeTimeoutMs: 2000 };

/** The D-Bus engine over the GX's bus: what the remote cache must equal. */
async function reference(gx: GxBehindBroker): Promise<GxEngine> {
  const e = new GxEngine(new DbusServiceTracker({ address: gx.bus.address }), { portalId: gx.portal, uniqueIdFile: '' });
  await new Promise<void>((resolve) => { e.once('scanned', () => resolve()); e.start(); });
  return e;
}

function sameCache(remote: RemoteEngine, want: Map<string, string>): boolean {
  const got = itemPayloads(remote.engine);
  if (got.size !== want.size) return false;
  for (const [t, p] of want) if (got.get(t) !== p) return false;
  return true;
}

test('the GX\'s broker restarts: everything goes, then a full keep-alive brings the whole state back', async () => {
  const gx = await startGxBehindBroker('restart00001', ['ess-gx.json']);
  const ref = await reference(gx);
  const remote = await startRemoteEngine(gx.broker.url, gx.portal, { timing: FAST });
  try {
    const want = itemPayloads(ref);
    assert.ok(sameCache(remote, want));
    await gx.broker.restart();
    await waitUntil(() => remote.engine.cache.itemCount === 0, 5000, 'the cache emptied while A was away');
    assert.ok(remote.updates.some((u) => u.cause === 'vanish'), 'flows were told');
    await remote.waitScanned(2, 20000);
    await waitUntil(() => sameCache(remote, want), 20000, 'the whole state again');
    assert.equal(remote.source.state, 'connected');
  } finally {
    await remote.close();
    await ref.close();
    await gx.close();
  }
});

test('the GX goes quiet: stale after the set time, values kept; it recovers by itself (bridge stopped, and SIGSTOP)', async () => {
  const gx = await startGxBehindBroker('silent000001', ['ess-gx.json']);
  const remote = await startRemoteEngine(gx.broker.url, gx.portal, { timing: FAST });
  try {
    const items = remote.engine.cache.itemCount;
    await gx.stopBridge();
    await waitUntil(() => remote.source.stale, 5000, 'stale');
    assert.equal(remote.engine.stale, true);
    assert.deepEqual(remote.staleEvents, [true]);
    assert.equal(remote.engine.cache.itemCount, items, 'values are kept while stale');
    assert.ok(remote.logs.some((l) => /stale: nothing heard from the GX for \d+ s/.test(l)));
    await gx.restartBridge();
    await waitUntil(() => !remote.source.stale, 10000, 'recovered');
    assert.deepEqual(remote.staleEvents, [true, false]);
    // frozen, not gone: the socket stays open, nothing comes
    const pid = gx.bridge.started.proc.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      await waitUntil(() => remote.source.stale, 5000, 'stale while frozen');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitUntil(() => !remote.source.stale, 10000, 'recovered after SIGCONT');
    gx.sim.service('com.victronenergy.battery.ttyO0')!.setValue('/Soc', 12.5);
    await waitUntil(() => remote.engine.cache.route('battery', '256')!.items.get('/Soc')!.value === 12.5, 5000, 'changes again');
  } finally {
    await remote.close();
    await gx.close();
  }
});

test('a vanishing service takes its items along; one that left unseen is swept by the next full republish', async () => {
  const gx = await startGxBehindBroker('vanish000001', ['ess-gx.json']);
  const remote = await startRemoteEngine(gx.broker.url, gx.portal, { timing: FAST });
  try {
    const grid = 'com.victronenergy.grid.cgwacs_ttyUSB0_di30_mb1';
    const gridDef = { name: grid, paths: { '/DeviceInstance': 30, '/Ac/Power': 100.5 } };
    await gx.sim.removeService(grid);
    await waitUntil(() => !remote.engine.cache.route('grid', '30'), 5000, 'grid gone');
    assert.ok(remote.updates.some((u) => u.cause === 'vanish' && u.service.type === 'grid'));
    await gx.sim.addService(gridDef);
    await waitUntil(() => remote.engine.cache.route('grid', '30')?.items.get('/Ac/Power')?.value === 100.5, 5000, 'grid back');
    // now it leaves while the GX's bridge is down: nobody sends its empty payloads
    await gx.stopBridge();
    await gx.sim.removeService(grid);
    await gx.restartBridge();
    await waitUntil(() => !remote.engine.cache.route('grid', '30'), 10000, 'swept after the GX came back');
    assert.ok(remote.engine.cache.route('battery', '256'), 'the others stay');
  } finally {
    await remote.close();
    await gx.close();
  }
});

test('two GX on one broker: each remote source sees its own portal only', async () => {
  const one = await startGxBehindBroker('twoportal001', ['ess-gx.json']);
  const two = await startGxBehindBroker('twoportal002', ['remote-edge.json'], { broker: one.broker });
  const r1 = await startRemoteEngine(one.broker.url, one.portal, { timing: FAST });
  const r2 = await startRemoteEngine(one.broker.url, two.portal, { timing: FAST });
  try {
    assert.ok(r1.engine.cache.route('vebus', '257'));
    assert.equal(r1.engine.cache.route('edge', '7'), undefined);
    assert.ok(r2.engine.cache.route('edge', '7'));
    assert.equal(r2.engine.cache.route('vebus', '257'), undefined);
    const w = await r2.engine.writeJson({ type: 'system', instance: '0', path: '/Relay/0/State' }, '{"value":1}', 'flow');
    assert.equal(w.ok, true, w.error);
    assert.equal(two.sim.service('com.victronenergy.system')!.getValue('/Relay/0/State')!.value, 1);
    assert.notEqual(one.sim.service('com.victronenergy.system')!.getValue('/Relay/0/State')?.value, 1);
  } finally {
    await r1.close();
    await r2.close();
    await two.close();
    await one.close();
  }
});

function publishFile(port: number, topic: string, bytes: Buffer, retain = false): Promise<void> {
  const file = path.join(tempDir('payload'), 'p');
  fs.writeFileSync(file, bytes);
  const args = ['-h', '127.0.0.1', '-p', String(port), '-t', topic, '-f', file];
  if (retain) args.push('-r');
  return new Promise((resolve, reject) => execFile('mosquitto_pub', args, (err) => (err ? reject(err) : resolve())));
}

test('hostile notifications are ignored, logged once per reason, and bounded; the GX\'s own data still flows', async () => {
  const gx = await startGxBehindBroker('hostile00001', ['ess-gx.json']);
  // a retained leftover (an old dbus-mqtt's) is never taken as current when subscribing
  await publish(gx.broker.port, `N/${gx.portal}/battery/256/Dc/9/Old`, '{"value":1}', { retain: true });
  const remote = await startRemoteEngine(gx.broker.url, gx.portal, { timing: FAST, limits: { maxServices: 12, maxItems: 2000, maxPayloadBytes: 64 * 1024 } });
  const N = `N/${gx.portal}`;
  try {
    const before = itemPayloads(remote.engine);
    const pub = (t: string, p: string) => publish(gx.broker.port, t, p);
    for (const [t, p] of [
      [`${N}/battery`, '{"value":1}'],
      [`${N}/battery/256`, '{"value":1}'],
      [`${N}/bat-tery/1/X`, '{"value":1}'],
      [`${N}/battery/2 56/X`, '{"value":1}'],
      [`${N}/battery/256/Bad-Path`, '{"value":1}'],
      [`${N}/battery/256/Dc//Voltage`, '{"value":1}'],
      [`${N}/battery/256/Soc`, 'not json'],
      [`${N}/battery/256/Soc`, '{"val":1}'],
      [`${N}/battery/256/Soc`, '[1,2]'],
      [`${N}/battery/256/Soc`, '{"value":'],
      [`${N}/battery/256/Soc`, '['.repeat(5000) + ']'.repeat(5000)],
      [`${N}/battery/256/Soc`, `{"value":"${'x'.repeat(70 * 1024)}"}`],
      [`S/${gx.portal}/battery/256/Soc`, '{"caller_id":"nobody","serial":1,"return_code":0}'],
      [`S/${gx.portal}/battery/256/Soc`, 'garbage'],
    ] as const) await pub(t, p);
    await publishFile(gx.broker.port, `${N}/battery/256/Soc`, Buffer.from([0x7b, 0x22, 0x76, 0x61, 0x6c, 0x75, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    // a flood of made-up services: only up to the limit
    for (let i = 0; i < 10; i++) await pub(`${N}/fake${i}/0/X`, '{"value":1}');
    gx.sim.service('com.victronenergy.battery.ttyO0')!.setValue('/Soc', 66.5);
    await waitUntil(() => remote.engine.cache.route('battery', '256')!.items.get('/Soc')!.value === 66.5, 5000, 'real changes');
    await waitUntil(() => remote.logs.some((l) => l.includes('more than 12 services')), 5000, 'the limit logged');
    assert.ok(remote.engine.cache.services.size <= 12);
    const battery = remote.engine.cache.route('battery', '256')!;
    assert.equal(battery.items.get('/Dc/9/Old'), undefined);
    assert.equal(battery.items.get('/Bad-Path'), undefined);
    for (const [t, p] of before) {
      if (t.endsWith('/battery/256/Soc')) continue;
      assert.equal(itemPayloads(remote.engine).get(t), p, t);
    }
    const warns = remote.logs.filter((l) => l.startsWith('warn'));
    for (const reason of ['not a service type', 'no path after', 'not a D-Bus object path', 'not a device instance', 'invalid JSON',
      "no 'value'", 'not a JSON object', 'nesting deeper', 'over the 65536-byte limit', 'not valid UTF-8']) {
      assert.ok(warns.some((l) => l.includes(reason)), `logged: ${reason}\n${warns.join('\n')}`);
    }
    assert.equal(remote.source.state, 'connected');
  } finally {
    await remote.close();
    await gx.close();
  }
});
