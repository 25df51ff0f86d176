// The remote source against a real GX face: the simulator behind our own gx-bridge on a real
// mosquitto (the GX's broker; the bridge may not publish S/ replies there, as dbus-flashmq sends
// none), and the engine over a RemoteGxSource on that broker. The D-Bus engine over the same bus
// is the reference for what the cache must hold.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { GxEngine } from '../../src/bridge/engine';
import { DbusServiceTracker } from '../../src/dbus/service-tracker';
import { Broker, Received, Subscriber } from '../support/mosquitto';
import { sleep, waitUntil } from '../support/engine-fixture';
import { GxBehindBroker, itemPayloads, RemoteEngine, startGxBehindBroker, startNoReplyBroker, startRemoteEngine } from '../support/remote-gx';

const P = 'edge0portal1';
let gx: GxBehindBroker;
let remote: RemoteEngine;
let local: GxEngine;
let sub: Subscriber;

let broker: Broker;

before(async () => {
  // a GX like dbus-flashmq: no S/ replies, so writes are confirmed by notification
  const noReply = await startNoReplyBroker();
  broker = noReply.broker;
  gx = await startGxBehindBroker(P, ['remote-edge.json', 'ess-gx.json'], noReply);
  local = new GxEngine(new DbusServiceTracker({ address: gx.bus.address }), { portalId: P, uniqueIdFile: '' });
  await new Promise<void>((resolve) => { local.once('scanned', () => resolve()); local.start(); });
  sub = await new Subscriber(gx.broker.port, [`N/${P}/#`, `R/${P}/#`, `W/${P}/#`]).start();
  remote = await startRemoteEngine(gx.broker.url, P, { timing: { intervalMs: 400, readTimeoutMs: 2000, writeTimeoutMs: 1500 } });
});

after(async () => {
  await remote?.close();
  await sub?.stop();
  await local?.close();
  await gx?.close();
  await broker?.stop();
});

const EDGE = 'com.victronenergy.edge.test0';
const REMOTE_EDGE = 'com.victronenergy.edge.mqtt_7';
const edge = (path: string) => ({ type: 'edge', instance: '7', path });
const keepalives = () => sub.messages.filter((m: Received) => m.topic === `R/${P}/keepalive`);

test('after the first keep-alive the cache holds every item the D-Bus side has, payloads byte for byte', () => {
  assert.equal(remote.engine.initialScanDone, true);
  const want = itemPayloads(local);
  const got = itemPayloads(remote.engine);
  assert.ok(want.size > 800, `${want.size} items`);
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
  for (const [topic, payload] of want) assert.equal(got.get(topic), payload, topic);
  const n = (t: string) => got.get(`N/${P}/${t}`);
  assert.equal(n('edge/7/Int/Int64'), '{"value":-9223372036854775808}');
  assert.equal(n('edge/7/Int/Int64Big'), '{"value":9007199254740993}');
  assert.equal(n('edge/7/Int/Uint64'), '{"value":18446744073709551615}');
  assert.equal(n('edge/7/Double/Integral'), '{"value":230.0}');
  assert.equal(n('edge/7/Double/Tiny'), '{"value":1e-07}');
  assert.equal(n('edge/7/Double/Huge'), '{"value":1e+20}');
  assert.equal(n('edge/7/String/Escapes'), '{"value":"quote \\" backslash \\\\ slash / tab \\t newline \\n bell \\u0007"}');
  assert.equal(n('edge/7/String/Unicode'), '{"value":"25 °C, Ünïcödé, 日本語, 😀"}');
  assert.equal(n('edge/7/Dict'), '{"value":{"a":2,"b":1.0,"c":"x"}}');
  assert.equal(n('edge/7/Invalid/Typed'), '{"value":null}');
  assert.equal(n('edge/7/Double/WithMinMax'), '{"max":1000000.0,"min":-1000000.0,"value":50.0}');
  assert.equal(n('settings/0/Settings/Ble/Service/Pincode'), '{"value":"******"}');
  assert.equal(n('vebus/257/Interfaces/Mk2/Tunnel'), undefined, 'blocked paths never come (N6)');
  // the source's own service names map back to the topic's type and instance
  const svc = remote.engine.cache.services.get(REMOTE_EDGE)!;
  assert.equal(svc.type, 'edge');
  assert.equal(svc.instance, '7');
  assert.equal(remote.engine.cache.route('edge', '7'), svc);
  // ints stay ints, doubles doubles, int64 exact (so writes keep the type)
  assert.equal(svc.items.get('/Int/Small')!.sig, 'i');
  assert.equal(svc.items.get('/Int/Int64Big')!.value, 9007199254740993n);
  assert.equal(svc.items.get('/Double/Integral')!.sig, 'd');
});

test('keep-alive: one full one with a random echo on connecting, then only suppress-republish', async () => {
  await waitUntil(() => keepalives().length >= 3, 5000, 'suppress keep-alives');
  const [first, ...rest] = keepalives();
  // with our caller_id beside the options (dbus-flashmq reads only keepalive-options, K5)
  const id = remote.source.callerId;
  assert.match(first.payload, new RegExp(`^\\{"caller_id":"${id}","keepalive-options":\\[\\{"full-publish-completed-echo":"[0-9a-f]{16}"\\}\\]\\}$`));
  for (const m of rest) assert.equal(m.payload, `{"caller_id":"${id}","keepalive-options":["suppress-republish"]}`);
  assert.equal(remote.source.stale, false);
});

test('changes flow; min/max stay; an invalid value keeps the item type for writes', async () => {
  remote.updates.length = 0;
  gx.sim.service(EDGE)!.setValue('/Double/Fraction', 12.25);
  gx.sim.service(EDGE)!.setValue('/Double/WithMinMax', 75);
  gx.sim.service(EDGE)!.setValue('/Settable/Double', null);
  await waitUntil(() => remote.updates.some((u) => u.item.path === '/Settable/Double'), 5000, 'updates');
  const payloadOf = (p: string) => remote.updates.find((u) => u.item.path === p)?.payload;
  assert.equal(payloadOf('/Double/Fraction'), '{"value":12.25}');
  assert.equal(payloadOf('/Double/WithMinMax'), '{"max":1000000.0,"min":-1000000.0,"value":75.0}');
  assert.equal(payloadOf('/Settable/Double'), '{"value":null}');
  assert.ok(remote.updates.every((u) => u.cause === 'change' && u.service.name === REMOTE_EDGE));
  sub.clear();
  const r = await remote.engine.writeJson(edge('/Settable/Double'), '{"value": 4}', 'flow');
  assert.equal(r.ok, true, r.error);
  assert.equal(sub.messages.find((m) => m.topic === `W/${P}/edge/7/Settable/Double`)!.payload.split(',')[0], '{"value":4.0');
});

test('reads: an item, a sub-tree, a service with a trailing slash, each answered once', async () => {
  gx.sim.service(EDGE)!.setValue('/Settable/Int', 9, { signal: false });
  remote.updates.length = 0;
  const one = await remote.engine.read(edge('/Settable/Int'));
  assert.deepEqual(one.map((r) => [r.path, r.payload]), [['/Settable/Int', '{"value":9}']]);
  assert.equal(remote.engine.cache.services.get(REMOTE_EDGE)!.items.get('/Settable/Int')!.value, 9);
  await sleep(100);
  assert.deepEqual(remote.updates.map((u) => [u.cause, u.item.path]), [['read', '/Settable/Int']], 'the answer is a read, not also a change');
  const tree = await remote.engine.read(edge('/Array'));
  assert.deepEqual(tree.map((r) => r.path).sort(), ['/Array/Bytes', '/Array/Doubles', '/Array/Ints', '/Array/Strings']);
  assert.equal(tree.find((r) => r.path === '/Array/Strings')!.payload, '{"value":["a","b\\"c","ü"]}');
  const all = await remote.engine.read({ type: 'system', instance: '0', path: '/' });
  assert.deepEqual(all.map((r) => r.path).sort(), ['/Dc/Battery/Soc', '/DeviceInstance', '/Relay/0/State', '/Serial']);
  // settings has no quiet item outside /Settings: this sub-tree ends when nothing more comes
  const ess = await remote.engine.read({ type: 'settings', instance: '0', path: '/Settings/CGwacs' });
  assert.equal(ess.find((r) => r.path === '/Settings/CGwacs/AcPowerSetPoint')!.payload, '{"max":1000000.0,"min":-1000000.0,"value":50.0}');
});

test('reads of a path the GX does not answer fail with the reason (R4)', async () => {
  const t0 = Date.now();
  await assert.rejects(remote.engine.read(edge('/No/Such')), /neither a known item nor a sub-tree: the GX answered nothing for it \(R4\)/);
  assert.ok(Date.now() - t0 < 1500, 'closed by the quiet item, not by the timeout');
  await assert.rejects(remote.engine.read({ type: 'settings', instance: '0', path: '/Nothing/Here' }), /within 2000 ms: the GX answers nothing .*\(R4\)/);
  await assert.rejects(remote.engine.read({ type: 'nosuch', instance: '0', path: '/X' }), /can't find/);
});

test('writes: typed from the item, confirmed by the notification showing the value', async () => {
  const sim = gx.sim.service(EDGE)!;
  sub.clear();
  const ws = (path: string) => sub.messages.filter((m) => m.topic === `W/${P}/edge/7${path}`);
  for (const [path, payload, want, literal] of [
    ['/Settable/Double', '{"value": 21}', 21, '21.0'],
    ['/Settable/Int', '{"value": 5}', 5, '5'],
    ['/Settable/Bool', '{"value": true}', true, 'true'],
    ['/Settable/String', '{"value": "ü \\"x\\""}', 'ü "x"', '"ü \\"x\\""'],
    ['/Settable/Int', '{"value": 5}', 5, '5'], // the same value again: confirmed all the same
  ] as const) {
    const before = ws(path).length;
    const r = await remote.engine.writeJson(edge(path), payload, 'flow');
    assert.equal(r.ok, true, `${path}: ${r.error}`);
    assert.equal(r.confirmation, 'notification', path);
    assert.equal(sim.getValue(path)!.value, want, path);
    // the GX may confirm before the observer on its broker has seen the W itself
    await waitUntil(() => ws(path).length > before, 5000, `the W to ${path} seen on the GX's broker`);
    const w = ws(path).pop()!;
    assert.match(w.payload, new RegExp(`^\\{"value":${literal.replace(/[\\"()[\]{}.+*?^$|]/g, '\\$&')},"serial":\\d+,"caller_id":"[A-Za-z0-9]{8}"\\}$`));
  }
  assert.ok(remote.engine.cache.services.get(REMOTE_EDGE)!.items.get('/Settable/String')!.value === 'ü "x"');
});

test('writes the GX does not carry out are sent, not confirmed; writes to unknown paths are refused before sending', async () => {
  const ro = await remote.engine.writeJson(edge('/Settable/ReadOnly'), '{"value": 2}', 'flow');
  assert.equal(ro.ok, true);
  assert.equal(ro.confirmation, 'unconfirmed');
  assert.equal(gx.sim.service(EDGE)!.getValue('/Settable/ReadOnly')!.value, 1);
  sub.clear();
  const unknown = await remote.engine.writeJson(edge('/No/Such'), '{"value":1}', 'flow');
  assert.equal(unknown.ok, false);
  assert.match(unknown.error!, /not a known item/);
  const lossy = await remote.engine.writeJson(edge('/Settable/Int'), '{"value":2.5}', 'flow');
  assert.equal(lossy.ok, false);
  assert.match(lossy.error!, /fraction/);
  await sleep(100);
  assert.deepEqual(sub.messages.filter((m) => m.topic.startsWith('W/')), []);
});
