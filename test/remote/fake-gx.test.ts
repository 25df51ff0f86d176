// The remote source and the engine over it against a dbus-flashmq-like GX (test/support/fake-gx.ts)
// on a real mosquitto: what only such a GX shows, or shows more simply than the simulator behind
// our own gx-bridge does.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { sleep, waitUntil } from '../support/engine-fixture';
import { FakeGx } from '../support/fake-gx';
import { publish, startMosquitto } from '../support/mosquitto';
import { startRemoteEngine } from '../support/remote-gx';

const MAPPING = 'system/0/ServiceMapping/com_victronenergy_vebus_257';

test('bus names from the GX\'s ServiceMapping, learnt whenever it tells them: full names route only while known, and only the exact one', async () => {
  const P = 'fakenames001';
  const a = await startMosquitto();
  const fake = await new FakeGx({ portal: P, items: { 'vebus/257/Mode': '{"value":3}' } }).start(a.url);
  const remote = await startRemoteEngine(a.url, P);
  try {
    const full = (bus: string) => ({ type: 'vebus', busName: bus, instance: '257', path: '/Mode' });
    const write = (bus: string, v: number) => remote.engine.writeJson(full(bus), `{"value":${v}}`, 'flow');
    const before = await write('com.victronenergy.vebus.ttyO1', 2);
    assert.equal(before.ok, false);
    assert.match(before.error!, /the GX has not told the bus name of vebus\/257 \(system\/0\/ServiceMapping\); use vebus\/257/);
    // the GX tells it later (a new service, or systemcalc catching up)
    fake.set(MAPPING, '{"value":"com.victronenergy.vebus.ttyO1"}');
    await waitUntil(() => remote.engine.cache.route('vebus', '257')!.busName === 'com.victronenergy.vebus.ttyO1', 5000, 'the name learnt');
    const ok = await write('com.victronenergy.vebus.ttyO1', 2);
    assert.equal(ok.ok, true, ok.error);
    assert.equal(fake.items.get('vebus/257/Mode'), '{"value":2}');
    assert.match((await write('com.victronenergy.vebus.ttyO2', 1)).error!, /can't find a D-Bus service for com\.victronenergy\.vebus\.ttyO2\/257/);
    // a mapping that names a service of another type is no name for this one
    const route = () => remote.engine.cache.route('vebus', '257')!;
    fake.set(MAPPING, '{"value":"com.victronenergy.battery.ttyO9"}');
    await waitUntil(() => route().busName === undefined, 5000, 'the odd name not taken');
    fake.set(MAPPING, '{"value":"com.victronenergy.vebus.ttyO1"}');
    await waitUntil(() => route().busName === 'com.victronenergy.vebus.ttyO1', 5000, 'the name again');
    // the mapping goes (its item is emptied): full names are refused again
    fake.set(MAPPING, '');
    await waitUntil(() => route().busName === undefined, 5000, 'the name forgotten');
    assert.equal((await write('com.victronenergy.vebus.ttyO1', 1)).ok, false);
    assert.equal(fake.items.get('vebus/257/Mode'), '{"value":2}');
    assert.equal((await remote.engine.writeJson({ type: 'vebus', instance: '257', path: '/Mode' }, '{"value":1}', 'flow')).ok, true);
  } finally {
    await remote.close();
    await fake.stop();
    await a.stop();
  }
});

const SUPPRESS = '{"keepalive-options":["suppress-republish"]}';
/** Several heartbeat periods (100 ms here): long enough that a running heartbeat would show. */
const QUIET_MS = 700;

test('the bridge\'s heartbeat says the GX is there: it stops while the GX is stale or its broker is gone, and comes back with the GX (K7)', async () => {
  const P = 'fakebeat0001';
  const a = await startMosquitto();
  const fake = await new FakeGx({ portal: P, items: { 'vebus/257/Mode': '{"value":3}' }, heartbeatMs: 300 }).start(a.url);
  const remote = await startRemoteEngine(a.url, P, { timing: { staleMs: 1500 } }, { timing: { heartbeatMs: 100 } });
  const beats = () => remote.published.filter((m) => m.topic === `N/${P}/heartbeat`).length;
  const noBeatFor = async (what: string) => {
    const n = beats();
    await sleep(QUIET_MS);
    assert.equal(beats(), n, `no heartbeat ${what}`);
  };
  try {
    remote.engine.keepaliveRequest(SUPPRESS); // a client keeps the bridge alive
    await waitUntil(() => beats() >= 2, 5000, 'heartbeats');
    fake.freeze();
    await waitUntil(() => remote.engine.stale, 5000, 'stale');
    await noBeatFor('while the GX is stale');
    assert.equal(remote.engine.alive, true, 'the bridge itself is still kept alive');
    remote.engine.keepaliveRequest(SUPPRESS);
    await noBeatFor('after a keep-alive while stale');
    fake.thaw();
    let n = beats();
    await waitUntil(() => beats() > n, 10000, 'the heartbeat back with the GX');
    assert.equal(remote.engine.stale, false);
    // the GX's broker goes away: no GX, no heartbeat
    await a.stop();
    await waitUntil(() => remote.source.state !== 'connected', 5000, 'disconnected');
    await noBeatFor('while the GX\'s broker is gone');
    n = beats();
    await a.restart();
    await waitUntil(() => beats() > n, 15000, 'the heartbeat back once the GX is reached again');
    assert.equal(remote.source.state, 'connected');
  } finally {
    await remote.close();
    await fake.stop();
    await a.stop();
  }
});

test('a GX that says nothing at all after the connection is stale once its first republish is given up; no heartbeat until it talks', async () => {
  const P = 'fakemute0001';
  const a = await startMosquitto();
  const fake = await new FakeGx({ portal: P, items: { 'vebus/257/Mode': '{"value":3}' }, heartbeatMs: 300 }).start(a.url);
  fake.freeze();
  const remote = await startRemoteEngine(a.url, P, { timing: { staleMs: 60000, scanFallbackMs: 800 } }, { timing: { heartbeatMs: 100 } });
  const beats = () => remote.published.filter((m) => m.topic === `N/${P}/heartbeat`).length;
  try {
    assert.equal(remote.engine.stale, true, 'stale at once, long before the stale time');
    assert.ok(remote.logs.some((l) => /stale: nothing heard from the GX since connecting/.test(l)), remote.logs.join('\n'));
    remote.engine.keepaliveRequest(SUPPRESS);
    await sleep(QUIET_MS);
    assert.equal(beats(), 0);
    fake.thaw();
    await remote.source.refresh(5000); // what the stale retry does, sooner
    await waitUntil(() => !remote.engine.stale && beats() > 0, 5000, 'heard, and heartbeating');
  } finally {
    await remote.close();
    await fake.stop();
    await a.stop();
  }
});

test('N/<portal>/keepalive right after our own bridge published one is taken for ours: no full republish asked, a marked suppress keep-alive instead; later ones are GX restarts', async () => {
  const P = 'fakemark0001';
  const a = await startMosquitto();
  const fake = await new FakeGx({ portal: P, items: { 'vebus/257/Mode': '{"value":3}' } }).start(a.url);
  const remote = await startRemoteEngine(a.url, P, { timing: { restartDelayMs: 200 } });
  try {
    const fulls = fake.fullPublishes;
    const from = fake.received.length;
    remote.source.ownMarkerSent(); // what the gateway does when its broker link has announced itself (K10)
    await publish(a.port, `N/${P}/keepalive`, '1');
    await waitUntil(() => fake.received.slice(from).some((r) => r.topic === `R/${P}/keepalive` && remote.source.isOwnRequest(r.payload) &&
      r.payload.includes('suppress-republish')), 5000, 'a suppress keep-alive with our caller_id');
    assert.ok(remote.logs.some((l) => /keepalive came right after our own bridge published one .* taken for ours/.test(l)), remote.logs.join('\n'));
    await sleep(600); // three restart delays
    assert.equal(fake.fullPublishes, fulls, 'no full republish asked for');
    await sleep(2000); // past the window
    await publish(a.port, `N/${P}/keepalive`, '1');
    await waitUntil(() => fake.fullPublishes > fulls, 5000, 'a GX restart: everything asked for again');
  } finally {
    await remote.close();
    await fake.stop();
    await a.stop();
  }
});
