// Hostile and broken `com.victronenergy.*` services on a real private dbus-daemon, against the
// tracker and the engine (issue 14, items 1, 4–8, and what an attacker would try next): topics
// that cannot exist, owner changes, floods during a pending scan, late snapshots, failing scans,
// two services on one type/instance, names churning, services that never answer, odd values.
// Each test checks that the tracker neither crashes, nor grows, nor keeps stale state.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Message, Variant } from 'dbus-next';
import { startEngineFixture, EngineFixture, PORTAL, waitUntil } from '../support/engine-fixture';
import { RawService, valuesDict } from '../support/raw-service';
import { startPrivateBus } from '../support/dbus-daemon';

const N = `N/${PORTAL}`;
const d = (v: number) => new Variant('d', v);
const i = (v: number) => new Variant('i', v);
const s = (v: string) => new Variant('s', v);

const battery = { name: 'com.victronenergy.battery.ttyO1', paths: { '/DeviceInstance': new Variant('u', 512), '/Soc': d(50.5) } };

/** MQTT would refuse these topics (the broker drops the connection). */
function forbiddenTopic(topic: string): boolean {
  return /[+#\p{Cc}\p{Noncharacter_Code_Point}]/u.test(topic) || Buffer.byteLength(topic) > 65535;
}

/** The warnings that something of the service is kept out of the cache. */
function warningsAbout(fx: EngineFixture, name: string): string[] {
  return fx.logs.filter((l) => l.startsWith(`warn ${name}: `) && l.includes('is not published'));
}

async function rawService(fx: EngineFixture, name: string, values: Record<string, Variant>,
  setup?: (r: RawService) => void): Promise<RawService> {
  const r = new RawService(name);
  r.items = valuesDict(values);
  setup?.(r);
  await r.connect(fx.bus.address);
  return r;
}

function itemsOf(fx: EngineFixture, name: string): string[] {
  return [...(fx.engine.cache.services.get(name)?.items.keys() ?? [])].sort();
}

function valueOf(fx: EngineFixture, name: string, path: string): unknown {
  return fx.engine.cache.services.get(name)?.items.get(path)?.value;
}

test('items and services whose topics cannot exist are never published nor routable; one warning per service (issue 14 #1)', async () => {
  const fx = await startEngineFixture({ beforeStart: async (sim) => { await sim.addService(battery); } });
  const long = '/L' + 'x'.repeat(65535);
  const wild = await rawService(fx, 'com.victronenergy.tank.wild', {
    '/DeviceInstance': i(5), '/Level': d(50), '/A/+/B': d(1), '/C/#': d(2), '/D/\u0001': d(3), '/E/\u0085': d(4),
    '/F/\uffff': d(5), [long]: d(6),
  }, (r) => {
    const onGetValue = r.onGetValue;
    // a sub-tree read of '/' answers a key with a wildcard too
    r.onGetValue = (msg) => (msg.path === '/' ? r.reply(msg, 'v', [new Variant('a{sv}', { Level: d(50), 'G/+': d(7) })]) : onGetValue(msg));
  });
  const ident = await rawService(fx, 'com.victronenergy.vecan.wild', { '/Identifier': s('x#y+'), '/X': i(1) });
  try {
    await waitUntil(() => warningsAbout(fx, ident.name).length > 0 && itemsOf(fx, wild.name).length > 0, 5000, 'both scanned');
    assert.deepEqual(itemsOf(fx, wild.name), ['/DeviceInstance', '/Level']);
    assert.ok(!fx.engine.cache.services.has(ident.name), 'a service whose instance has wildcards is not in the cache');
    fx.engine.keepaliveRequest('');
    assert.ok(fx.published.some((m) => m.topic === `${N}/tank/5/Level`), 'the rest of the service is served');
    assert.ok(fx.published.some((m) => m.topic === `${N}/battery/512/Soc`), 'other services are served');
    assert.ok(fx.published.some((m) => m.topic === `${N}/full_publish_completed`));
    // changes of refused paths, and new refused paths: still nothing published, no new warning
    wild.itemsChanged(valuesDict({ '/A/+/B': d(9), '/H/#': d(1), '/Level': d(51) }));
    await fx.waitPublished((m) => m.topic === `${N}/tank/5/Level` && m.payload === '{"value":51.0}');
    // R/W cannot reach them
    const w = await fx.engine.writeJson({ type: 'tank', instance: '5', path: '/A/+/B' }, '{"value":1}', 'flow');
    assert.equal(w.ok, false);
    assert.equal(wild.writes.length, 0);
    const all = await fx.engine.read({ type: 'tank', instance: '5', path: '/' }, { publish: true });
    assert.deepEqual(all.map((r) => r.path), ['/Level'], 'a sub-tree read leaves the wildcard key out');
    await assert.rejects(fx.engine.read({ type: 'vecan', instance: 'x#y+', path: '/X' }), /can't find/);
    assert.deepEqual(fx.published.filter((m) => forbiddenTopic(m.topic)).map((m) => m.topic.slice(0, 60)), []);
    const [wildWarning, ...moreWild] = warningsAbout(fx, wild.name);
    assert.deepEqual(moreWild, [], 'one warning for the service, not one per item or change');
    assert.match(wildWarning, /is not published and R\/W cannot reach it/);
    assert.equal(warningsAbout(fx, ident.name).length, 1);
    assert.match(warningsAbout(fx, ident.name)[0], /instance "x#y\+".*wildcard/);
  } finally {
    wild.disconnect();
    ident.disconnect();
    await fx.close();
  }
});

test('an owner change leaves exactly the new owner\'s items; a name without an owner is gone at once, scan pending or not (issue 14 #4)', async () => {
  const fx = await startEngineFixture();
  const name = 'com.victronenergy.tank.moving';
  const a = await rawService(fx, name, { '/DeviceInstance': i(5), '/Common': d(1), '/OnlyA': d(1) });
  const b = new RawService(name);
  b.items = valuesDict({ '/DeviceInstance': i(5), '/Common': d(2), '/OnlyB': d(2) });
  const c = new RawService(name);
  c.items = valuesDict({ '/DeviceInstance': i(5), '/OnlyC': d(3) });
  c.onGetItems = () => undefined; // a slow scan: it answers after it left
  try {
    await fx.waitService(name);
    fx.engine.keepaliveRequest('{"keepalive-options":["suppress-republish"]}');
    await b.connect(fx.bus.address); // queued behind a
    await c.connect(fx.bus.address); // queued behind b
    fx.published.length = 0;
    await a.releaseName();
    await waitUntil(() => itemsOf(fx, name).includes('/OnlyB'), 5000, "b's items");
    assert.deepEqual(itemsOf(fx, name), ['/Common', '/DeviceInstance', '/OnlyB'], "exactly the new owner's items");
    assert.deepEqual(fx.published.filter((m) => m.payload === '').map((m) => m.topic), [`${N}/tank/5/OnlyA`], 'old-only topics emptied once');
    assert.ok(fx.published.some((m) => m.topic === `${N}/tank/5/Common` && m.payload === '{"value":2.0}'));
    await b.releaseName(); // c owns the name now, and its scan is pending
    await waitUntil(() => c.callsOf('GetItems').length === 1, 5000, "c's scan");
    fx.published.length = 0;
    await c.releaseName();
    await waitUntil(() => !fx.engine.cache.services.has(name), 5000, 'the ownerless name to go');
    assert.deepEqual(fx.published.map((m) => [m.topic, m.payload]).sort(),
      [[`${N}/tank/5/Common`, ''], [`${N}/tank/5/DeviceInstance`, ''], [`${N}/tank/5/OnlyB`, '']]);
    await assert.rejects(fx.engine.read({ type: 'tank', instance: '5', path: '/Common' }), /can't find/);
    fx.engine.keepaliveRequest('');
    assert.ok(!fx.published.some((m) => m.topic.startsWith(`${N}/tank/5/`) && m.payload !== ''), 'not in a full publish either');
    await waitUntil(() => fx.tracker.stats.names === 0 && fx.tracker.stats.scanning === 0, 2000, 'nothing left of it');
  } finally {
    a.disconnect();
    b.disconnect();
    c.disconnect();
    await fx.close();
  }
});

test('an owner change to another instance moves the service: old topics emptied, R/W follow', async () => {
  const fx = await startEngineFixture();
  const name = 'com.victronenergy.tank.renumbered';
  const a = await rawService(fx, name, { '/DeviceInstance': i(5), '/Level': d(1) });
  const b = new RawService(name);
  b.items = valuesDict({ '/DeviceInstance': i(6), '/Level': d(2) });
  try {
    await fx.waitService(name);
    await b.connect(fx.bus.address);
    fx.published.length = 0;
    await a.releaseName();
    await waitUntil(() => fx.engine.cache.route('tank', '6') !== undefined, 5000, 'tank/6');
    assert.equal(fx.engine.cache.route('tank', '5'), undefined);
    assert.ok(fx.published.some((m) => m.topic === `${N}/tank/5/Level` && m.payload === ''));
  } finally {
    a.disconnect();
    b.disconnect();
    await fx.close();
  }
});

test('a name whose ownership flips in a loop: one scan at a time, nothing left over, the last owner\'s items', async () => {
  const fx = await startEngineFixture();
  const name = 'com.victronenergy.tank.flip';
  const owners = [0, 1].map((k) => {
    const r = new RawService(name);
    r.items = valuesDict({ '/DeviceInstance': i(5), [`/Owner${k}`]: i(k), '/Level': d(k) });
    // slow answers, so that most scans are overtaken by the next owner change
    r.onGetItems = (msg) => setTimeout(() => { try { r.reply(msg, 'a{sa{sv}}', [r.items]); } catch { /* gone */ } }, 30);
    return r;
  });
  try {
    for (const r of owners) await r.connect(fx.bus.address);
    await fx.waitService(name);
    let maxScanning = 0;
    for (let n = 0; n < 100; n++) {
      const owner = owners[n % 2];
      owner.itemsChanged(valuesDict({ '/Level': d(100 + n), [`/Junk${n}`]: d(n) }));
      await owner.releaseName();
      await owner.requestName(); // back to the end of the queue: the other one owns it now
      maxScanning = Math.max(maxScanning, fx.tracker.stats.scanning);
    }
    // 100 flips: owners[0] released last (n = 98) → owners[1] owned, released at n = 99 → owners[0]
    await owners[0].flush();
    await waitUntil(() => itemsOf(fx, name).includes('/Owner0') && fx.tracker.stats.scanning === 0, 5000, 'the last owner');
    assert.ok(maxScanning <= 1, 'one scan at a time for the name: a superseded scan frees its slot at once');
    assert.ok(!itemsOf(fx, name).includes('/Owner1'), "none of the other owner's items");
    const st = fx.tracker.stats;
    assert.deepEqual([st.names, st.owners, st.queued, st.waiting, st.pendingPaths], [1, 1, 0, 0, 0]);
    await waitUntil(() => fx.tracker.stats.unansweredCalls === 0, 5000, 'every call answered or drained');
  } finally {
    for (const r of owners) r.disconnect();
    await fx.close();
  }
});

test('a flood of changes while GetItems is pending: newest value per path kept, bounded by paths, published once the scan is in (issue 14 #5)', async () => {
  const fx = await startEngineFixture({ tracker: { maxPendingPathsPerService: 500 } });
  const name = 'com.victronenergy.solarcharger.flood';
  const paths = Array.from({ length: 200 }, (_, k) => `/P${k}`);
  let getItems: ((dict: Record<string, unknown>) => void) | undefined;
  const r = await rawService(fx, name, { '/DeviceInstance': i(9), ...Object.fromEntries(paths.map((p) => [p, d(-1)])) }, (raw) => {
    raw.onGetItems = (msg) => { getItems = (dict) => raw.reply(msg, 'a{sa{sv}}', [dict]); };
  });
  try {
    fx.engine.keepaliveRequest('');
    await waitUntil(() => getItems !== undefined, 5000, 'GetItems');
    let maxPending = 0;
    const rounds = 250;
    for (let round = 0; round < rounds; round++) {
      r.itemsChanged(valuesDict(Object.fromEntries(paths.map((p, k) => [p, d(round * 1000 + k)]))));
      if (round % 25 === 0) {
        // paths the scan will not list, more than the bound allows
        r.itemsChanged(valuesDict(Object.fromEntries(Array.from({ length: 100 }, (_, k) => [`/New/R${round}/N${k}`, i(k)]))));
        await r.flush();
        maxPending = Math.max(maxPending, fx.tracker.stats.pendingPaths);
      }
    }
    await r.flush();
    await waitUntil(() => fx.tracker.stats.pendingPaths >= 500, 5000, 'the queue to fill');
    maxPending = Math.max(maxPending, fx.tracker.stats.pendingPaths);
    assert.equal(maxPending, 500, '50 000 changes of 200 paths and 1000 new paths: never more than the bound kept');
    fx.published.length = 0;
    getItems!(r.items); // the snapshot it took when asked: every path still -1
    await fx.waitService(name);
    for (const [k, p] of paths.entries()) {
      const newest = (rounds - 1) * 1000 + k;
      assert.equal(valueOf(fx, name, p), newest, p);
      assert.equal(fx.published.filter((m) => m.topic === `${N}/solarcharger/9${p}`).map((m) => m.payload).join(), `{"value":${newest}.0}`,
        `${p}: published once, with the newest value`);
    }
    assert.equal(fx.tracker.stats.pendingPaths, 0, 'the queue is released');
    assert.ok(fx.logs.some((l) => l.includes('changes of paths beyond the bound were dropped')), fx.logs.join('\n'));
  } finally {
    r.disconnect();
    await fx.close();
  }
});

test('a late snapshot: a value signalled while the scan was pending wins over the older reply (issue 14 #6)', async () => {
  const fx = await startEngineFixture();
  const name = 'com.victronenergy.temperature.async';
  const r = await rawService(fx, name, { '/DeviceInstance': i(3), '/T': d(1), '/Other': d(7) }, (raw) => {
    raw.onGetItems = (msg) => {
      const snapshot = JSON.parse(JSON.stringify({ T: 1 })); // taken when called
      raw.items['/T'] = { Value: d(2) };
      raw.itemsChanged(valuesDict({ '/T': d(2) })); // changes meanwhile, and says so
      setTimeout(() => raw.reply(msg, 'a{sa{sv}}', [{ ...raw.items, '/T': { Value: d(snapshot.T) } }]), 300);
    };
  });
  try {
    fx.engine.keepaliveRequest('');
    await fx.waitService(name);
    const onBus = (await fx.engine.source.getValue(name, '/T')).value;
    assert.equal(onBus, 2);
    assert.equal(valueOf(fx, name, '/T'), 2, 'the cache holds what is on the bus');
    assert.deepEqual(fx.published.filter((m) => m.topic === `${N}/temperature/3/T`).map((m) => m.payload), ['{"value":2.0}']);
    assert.equal(valueOf(fx, name, '/Other'), 7, 'paths that did not signal come from the reply');
  } finally {
    r.disconnect();
    await fx.close();
  }
});

test('a scan that fails is retried with backoff until it answers; one log line per distinct reason (issue 14 #7)', async () => {
  const fx = await startEngineFixture({ tracker: { scanRetryMinMs: 50, scanRetryMaxMs: 200, scanTimeoutMs: 300 } });
  const name = 'com.victronenergy.pvinverter.flaky';
  let calls = 0;
  const r = await rawService(fx, name, { '/DeviceInstance': i(20), '/Ac/Power': i(10) }, (raw) => {
    raw.onGetItems = (msg) => {
      calls++;
      if (calls <= 3) raw.error(msg, 'org.freedesktop.DBus.Error.Failed', `busy (${calls})`);
      else if (calls <= 5) raw.error(msg, 'com.example.Error.Other', 'other');
      else raw.reply(msg, 'a{sa{sv}}', [raw.items]);
    };
  });
  try {
    await fx.waitService(name, 5000);
    assert.equal(calls, 6);
    const lines = fx.logs.filter((l) => l.includes(`scan of ${name}`));
    assert.equal(lines.filter((l) => l.startsWith('error ')).length, 2, lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('info ') && l.includes('answered at attempt 6')), lines.join('\n'));
    assert.equal(fx.tracker.stats.waiting, 0);
  } finally {
    r.disconnect();
    await fx.close();
  }
});

test('a GetItems answered after the scan timeout: the late answer is ignored, the retry is published (issue 14 #7)', async () => {
  const fx = await startEngineFixture({ tracker: { scanRetryMinMs: 50, scanTimeoutMs: 300 } });
  const name = 'com.victronenergy.grid.late';
  let calls = 0;
  const r = await rawService(fx, name, { '/DeviceInstance': i(30), '/Ac/Power': d(0) }, (raw) => {
    raw.onGetItems = (msg) => {
      const n = ++calls;
      // every answer takes 450 ms, longer than the first timeout; the first one is stale
      setTimeout(() => raw.reply(msg, 'a{sa{sv}}', [{ ...raw.items, '/Ac/Power': { Value: d(n === 1 ? 1 : 2) } }]), 450);
    };
  });
  try {
    fx.engine.keepaliveRequest('');
    await fx.waitService(name, 5000);
    await waitUntil(() => calls >= 2 && fx.tracker.stats.unansweredCalls === 0, 5000, 'both answers');
    assert.equal(valueOf(fx, name, '/Ac/Power'), 2);
    assert.deepEqual(fx.published.filter((m) => m.topic === `${N}/grid/30/Ac/Power`).map((m) => m.payload), ['{"value":2.0}'],
      'the abandoned call\'s answer never reached the cache');
    assert.equal(fx.logs.filter((l) => l.startsWith('error scan of')).length, 1);
  } finally {
    r.disconnect();
    await fx.close();
  }
});

test('a service that fails every scan and leaves: no retry left behind; a failure after an owner change removes the old owner\'s items', async () => {
  const fx = await startEngineFixture({ tracker: { scanRetryMinMs: 50, scanRetryMaxMs: 100 } });
  const name = 'com.victronenergy.meteo.broken';
  const good = await rawService(fx, name, { '/DeviceInstance': i(1), '/Irradiance': d(5) });
  const broken = new RawService(name);
  broken.onGetItems = (msg) => broken.error(msg, 'org.freedesktop.DBus.Error.Failed', 'broken');
  try {
    await fx.waitService(name);
    await broken.connect(fx.bus.address);
    fx.published.length = 0;
    await good.releaseName();
    await waitUntil(() => !fx.engine.cache.services.has(name), 5000, "the old owner's items to go");
    await waitUntil(() => broken.callsOf('GetItems').length >= 3, 5000, 'retries');
    assert.equal(fx.tracker.stats.names, 1);
    broken.disconnect();
    await waitUntil(() => fx.tracker.stats.names === 0, 5000, 'the name to go');
    assert.deepEqual([fx.tracker.stats.waiting, fx.tracker.stats.queued, fx.tracker.stats.scanning], [0, 0, 0]);
    assert.equal(fx.logs.filter((l) => l.startsWith(`error scan of ${name}`)).length, 1, 'one line for all those retries');
  } finally {
    good.disconnect();
    broken.disconnect();
    await fx.close();
  }
});

test('two services on one type/instance: a warning names both; the first keeps R/W; when one leaves the other\'s values show (issue 14 #8)', async () => {
  const fx = await startEngineFixture();
  const a = await rawService(fx, 'com.victronenergy.tank.a', { '/DeviceInstance': i(5), '/Level': d(10), '/OnlyA': d(1) });
  try {
    await fx.waitService(a.name);
    const b = await rawService(fx, 'com.victronenergy.tank.b', { '/DeviceInstance': i(5), '/Level': d(20), '/OnlyB': d(2) });
    await fx.waitService(b.name);
    const [claim, ...more] = fx.logs.filter((l) => l.startsWith('warn ') && l.includes('both claim tank/5'));
    assert.ok(claim && claim.includes(a.name) && claim.includes(b.name), fx.logs.join('\n'));
    assert.deepEqual(more, []);
    const w = await fx.engine.writeJson({ type: 'tank', instance: '5', path: '/Level' }, '{"value":11}', 'flow');
    assert.ok(w.ok, w.error);
    assert.deepEqual([a.writes.length, b.writes.length], [1, 0], 'W goes to the service that came first');
    fx.engine.keepaliveRequest('');
    fx.published.length = 0;
    a.disconnect(); // the first one leaves (crashes): the route passes on, its shared topic shows b's value
    await waitUntil(() => !fx.engine.cache.services.has(a.name), 5000, 'a to go');
    assert.deepEqual(fx.published.map((m) => [m.topic, m.payload]).sort(), [
      [`${N}/tank/5/DeviceInstance`, '{"value":5}'], [`${N}/tank/5/Level`, '{"value":20.0}'], [`${N}/tank/5/OnlyA`, ''],
    ]);
    assert.equal(fx.engine.cache.route('tank', '5')!.name, b.name);
    fx.published.length = 0;
    fx.engine.keepaliveRequest('');
    assert.ok(fx.published.some((m) => m.topic === `${N}/tank/5/Level` && m.payload === '{"value":20.0}'), 'a full publish has them');
    b.disconnect();
  } finally {
    a.disconnect();
    await fx.close();
  }
});

test('com.victronenergy.settings.evil on settings/0 does not capture writes meant for localsettings (issue 14 #8)', async () => {
  const fx = await startEngineFixture();
  const settings = await rawService(fx, 'com.victronenergy.settings', { '/Settings/CGwacs/AcPowerSetPoint': d(0) });
  try {
    await fx.waitService(settings.name);
    const evil = await rawService(fx, 'com.victronenergy.settings.evil', { '/DeviceInstance': i(0), '/Settings/CGwacs/AcPowerSetPoint': d(0) });
    await fx.waitService(evil.name);
    assert.ok(fx.logs.some((l) => l.startsWith('warn ') && l.includes(evil.name) && l.includes(`R/W keep going to ${settings.name}`)));
    const w = await fx.engine.writeJson({ type: 'settings', instance: '0', path: '/Settings/CGwacs/AcPowerSetPoint' }, '{"value":-500}', 'mqtt');
    assert.ok(w.ok, w.error);
    assert.equal(w.service, settings.name);
    assert.deepEqual(settings.writes.map((x) => x.value), [-500]);
    assert.deepEqual(evil.writes, []);
    const [read] = await fx.engine.read({ type: 'settings', instance: '0', path: '/Settings/CGwacs/AcPowerSetPoint' });
    assert.equal(read.service, settings.name, 'reads too');
    evil.disconnect();
  } finally {
    settings.disconnect();
    await fx.close();
  }
});

test('signals from unknown senders and forged NameOwnerChanged are ignored; malformed signals are told once', async () => {
  const fx = await startEngineFixture({ beforeStart: async (sim) => { await sim.addService(battery); } });
  const stranger = new RawService('com.victronenergy.battery.ttyO1'); // same name, never owns it
  const known = await rawService(fx, 'com.victronenergy.dcload.shape', { '/DeviceInstance': i(2), '/P': d(1) });
  try {
    await stranger.connect(fx.bus.address, { own: false });
    await fx.waitService(known.name);
    stranger.itemsChanged(valuesDict({ '/Soc': d(1), '/Injected': d(1) }));
    stranger.signal('/Soc', 'PropertiesChanged', 'a{sv}', [{ Value: d(2) }]);
    // a NameOwnerChanged that does not come from the bus daemon
    stranger.bus.send(Message.newSignal('/org/freedesktop/DBus', 'org.freedesktop.DBus', 'NameOwnerChanged', 'sss',
      ['com.victronenergy.battery.ttyO1', fx.sim.service(battery.name)!.uniqueName, '']));
    for (let n = 0; n < 50; n++) known.signal('/', 'ItemsChanged', 'as', [['junk']]);
    known.itemsChanged(valuesDict({ '/P': d(2) }));
    await stranger.flush();
    await known.flush();
    await waitUntil(() => valueOf(fx, known.name, '/P') === 2, 5000, 'the last good change');
    assert.deepEqual(itemsOf(fx, battery.name), ['/DeviceInstance', '/Soc']);
    assert.equal(valueOf(fx, battery.name, '/Soc'), 50.5);
    assert.equal(fx.logs.filter((l) => l.includes('ignored a malformed ItemsChanged')).length, 1);
  } finally {
    stranger.disconnect();
    known.disconnect();
    await fx.close();
  }
});

test('names churning: 300 names come and go, nothing of them is kept', async () => {
  const fx = await startEngineFixture();
  try {
    for (let n = 0; n < 300; n += 50) {
      const batch = Array.from({ length: 50 }, (_, k) => new RawService(`com.victronenergy.temperature.churn${n + k}`));
      await Promise.all(batch.map((r) => { r.items = valuesDict({ '/DeviceInstance': i(n + 1000), '/T': d(1) }); return r.connect(fx.bus.address); }));
      await Promise.all(batch.map((r) => r.releaseName()));
      for (const r of batch) r.disconnect();
    }
    await waitUntil(() => fx.tracker.stats.names === 0 && fx.engine.cache.services.size === 0, 5000, 'every name gone');
    const st = fx.tracker.stats;
    assert.deepEqual([st.owners, st.queued, st.scanning, st.waiting, st.pendingPaths], [0, 0, 0, 0, 0]);
    const owners = (fx.tracker as unknown as { bus: { _nameOwners: Record<string, string> } }).bus._nameOwners;
    assert.deepEqual(Object.keys(owners).filter((k) => k.includes('churn')), [], "dbus-next's owner table forgets them");
  } finally {
    await fx.close();
  }
});

test('a service that never answers cannot use up the bus\'s pending-reply limit: other services keep being served', async () => {
  const bus = await startPrivateBus({ limits: { max_replies_per_connection: 40 } });
  const fx = await startEngineFixture({ bus, tracker: { callTimeoutMs: 1000, scanTimeoutMs: 200, scanRetryMinMs: 50, scanRetryMaxMs: 100 },
    beforeStart: async (sim) => { await sim.addService(battery); } });
  const hung = new RawService('com.victronenergy.meteo.hung');
  hung.answers = false;
  const reads: Array<Promise<unknown>> = [];
  try {
    await hung.connect(bus.address);
    // it never answers GetItems: every retry is another call it leaves unanswered
    await waitUntil(() => hung.callsOf('GetItems').length >= 3, 5000, 'retries');
    // never scanned, so not routable: the calls go to it through the source port directly
    for (let n = 0; n < 100; n++) reads.push(fx.tracker.getValue(hung.name, '/X').catch((e: Error & { errorName?: string }) => e.errorName));
    const outcomes = await Promise.all(reads);
    assert.ok(outcomes.every((o) => o === 'org.freedesktop.DBus.Error.NoReply' || o === 'org.freedesktop.DBus.Error.LimitsExceeded'), String(outcomes));
    assert.ok(fx.tracker.stats.unansweredCalls <= 16, `unanswered ${fx.tracker.stats.unansweredCalls}`);
    // everything else still works
    const [soc] = await fx.engine.read({ type: 'battery', instance: '512', path: '/Soc' });
    assert.equal(soc.value, 50.5);
    const w = await fx.engine.writeJson({ type: 'battery', instance: '512', path: '/Soc' }, '{"value":40}', 'flow');
    assert.ok(w.ok, w.error);
    hung.disconnect(); // the daemon answers its pending calls with NoReply: nothing stays counted
    await waitUntil(() => fx.tracker.stats.unansweredCalls === 0 && fx.tracker.stats.names === 1, 5000, 'drained, only the battery left');
  } finally {
    hung.disconnect();
    await fx.close();
    await bus.stop();
  }
});

test('GetItems with more items than a service may have, and values of every odd type: bounded, valid JSON, connection kept', async () => {
  const fx = await startEngineFixture({ beforeStart: async (sim) => { await sim.addService(battery); } });
  fx.engine.cache.maxItemsPerService = 100;
  const name = 'com.victronenergy.genset.odd';
  const odd: Record<string, Variant> = {
    '/DeviceInstance': i(4),
    '/Struct': new Variant('(si)', ['a', 1]),
    '/Dict': new Variant('a{sv}', { k: new Variant('a{ss}', { '"quoted"': 'v' }) }),
    '/Nested': new Variant('v', new Variant('v', new Variant('i', 3))),
    '/Path': new Variant('o', '/x/y'),
    '/Sig': new Variant('g', 'a{sv}'),
    '/Bytes': new Variant('ay', Buffer.alloc(10000, 1)),
    '/Deep': new Variant('aaaai', [[[[1]]]]),
    '/EmptyDict': new Variant('a{sv}', {}),
    '/Big': s('x'.repeat(1 << 20)),
    '/Int64': new Variant('x', -(2n ** 63n)),
  };
  for (let n = 0; n < 200; n++) odd[`/Many/${n}`] = i(n);
  const r = await rawService(fx, name, odd);
  try {
    await fx.waitService(name);
    const items = fx.engine.cache.services.get(name)!.items;
    assert.equal(items.size, 100, 'at most maxItemsPerService items');
    r.itemsChanged(valuesDict({ '/Beyond/1': i(1), '/DeviceInstance': i(4) }));
    await r.flush();
    fx.engine.keepaliveRequest('');
    for (const m of fx.published.filter((x) => x.topic.startsWith(`${N}/genset/4/`))) {
      assert.doesNotThrow(() => JSON.parse(m.payload), m.topic);
    }
    assert.ok(!items.has('/Beyond/1'));
    assert.equal(warningsAbout(fx, name).length, 1, 'told once');
    assert.equal(fx.tracker.state, 'connected');
    assert.ok(!fx.logs.some((l) => l.includes('D-Bus error') || l.includes('connection ended')), 'the connection was never lost');
  } finally {
    r.disconnect();
    await fx.close();
  }
});
