// Every palette node over a GX reached over MQTT on the LAN, in the real Node-RED runtime: the
// "GX" is our own gx-bridge over the simulator on a private bus, publishing on a real mosquitto
// that, like dbus-flashmq, sends no write replies (test/support/remote-gx.ts). gx-notify,
// gx-read, gx-write (with how each write is confirmed) and gx-keepalive (which asks the GX for a
// fresh full publish first) work as on D-Bus; when the GX goes quiet (its bridge stopped, or
// frozen with SIGSTOP) every node says so, messages carry msg.gx.stale, writes are refused, and
// it all recovers by itself.
import { after, afterEach, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Broker, Subscriber } from '../support/mosquitto';
import { sleep, waitUntil } from '../support/engine-fixture';
import { collect, connectedConfig, helper, linesOf, NODES, statusesOf } from '../support/nr-helper';
import { GxBehindBroker, startGxBehindBroker, startNoReplyBroker } from '../support/remote-gx';

const P = 'remotenodes1';
const EDGE = 'com.victronenergy.edge.test0';
let broker: Broker;
let gx: GxBehindBroker;
let sub: Subscriber;

before(async () => {
  const noReply = await startNoReplyBroker();
  broker = noReply.broker;
  gx = await startGxBehindBroker(P, ['ess-gx.json', 'remote-edge.json'], noReply);
  sub = await new Subscriber(broker.port, [`R/${P}/keepalive`, `W/${P}/#`]).start();
});

afterEach(() => helper.unload());

after(async () => {
  await sub?.stop();
  await gx?.close();
  await broker?.stop();
});

const tab = { id: 'f1', type: 'tab' };
const cfg = (extra: object = {}) => ({ id: 'rcfg', type: 'gx-config', source: 'lan', gxUrl: broker.url, portalId: P, staleSeconds: 6, ...extra }); // the shortest allowed
const catcher = { id: 'c1', type: 'catch', z: 'f1', wires: [['caught']] };
const caughtNode = { id: 'caught', type: 'helper', z: 'f1' };
const last = (s: any[]) => s[s.length - 1];

test('gx-notify and gx-read over the GX\'s broker: current values at deploy, changes, reads of items and sub-trees', async () => {
  await helper.load(NODES, [
    tab, cfg(),
    { id: 'n1', type: 'gx-notify', z: 'f1', server: 'rcfg', filter: 'battery/+/Soc', when: 'always', initial: true, wires: [['out']] },
    { id: 'r1', type: 'gx-read', z: 'f1', server: 'rcfg', path: 'settings/0/Settings/CGwacs', wires: [['read']] },
    { id: 'out', type: 'helper', z: 'f1' }, { id: 'read', type: 'helper', z: 'f1' }, catcher, caughtNode,
  ]);
  const got = collect(helper.getNode('out'));
  const read = collect(helper.getNode('read'));
  const caught = collect(helper.getNode('caught'));
  const c = await connectedConfig('rcfg', 20000);
  assert.equal(c.controller.sourceKind, 'lan');
  await waitUntil(() => got.length >= 1, 5000, 'the value at deploy');
  assert.equal(got[0].topic, `N/${P}/battery/256/Soc`);
  assert.deepEqual(got[0].gx, { service: 'com.victronenergy.battery.mqtt_256', type: 'battery', instance: '256', path: '/Soc', portalId: P, cause: 'scan' });
  gx.sim.service('com.victronenergy.battery.ttyO0')!.setValue('/Soc', 44.5);
  await waitUntil(() => got.some((m) => m.payload === 44.5 && m.gx.cause === 'change'), 5000, 'the change');
  assert.ok(got.every((m) => m.gx.stale === undefined), 'no stale flag while the GX answers');
  // a value the GX's D-Bus has that never signalled: a read asks the GX (R), not the cache
  gx.sim.service('com.victronenergy.settings')!.setValue('/Settings/CGwacs/MaxFeedInPower', 777, { signal: false });
  helper.getNode('r1').receive({ payload: 'go', keep: 'me' });
  await waitUntil(() => read.some((m) => m.gx.path === '/Settings/CGwacs/MaxFeedInPower'), 5000, 'the sub-tree');
  const feed = read.find((m) => m.gx.path === '/Settings/CGwacs/MaxFeedInPower');
  assert.equal(feed.payload, 777);
  assert.equal(feed.keep, 'me', 'the input message\'s other properties are kept');
  assert.ok(read.every((m) => m.topic.startsWith(`N/${P}/settings/0/Settings/CGwacs/`)));
  assert.equal(caught.length, 0);
});

test('gx-write over the GX\'s broker: typed by the item, confirmed by the notification; "sent, not confirmed" is no failure, said once', async () => {
  await helper.load(NODES, [
    tab, cfg(),
    { id: 'w1', type: 'gx-write', z: 'f1', server: 'rcfg', path: 'edge/7/Settable/Double', wires: [['out']] },
    { id: 'w2', type: 'gx-write', z: 'f1', server: 'rcfg', path: 'edge/7/Settable/ReadOnly', wires: [['out']] },
    { id: 'w3', type: 'gx-write', z: 'f1', server: 'rcfg', path: 'edge/7/Settable/Int', wires: [['out']] },
    { id: 'out', type: 'helper', z: 'f1' }, catcher, caughtNode,
  ]);
  const got = collect(helper.getNode('out'));
  const caught = collect(helper.getNode('caught'));
  await connectedConfig('rcfg', 20000);
  const s1 = statusesOf('w1');
  const s2 = statusesOf('w2');
  const warns = linesOf(helper.getNode('w2'), ['warn']);
  sub.clear();
  helper.getNode('w1').receive({ payload: 21 });
  await waitUntil(() => got.length === 1, 8000, 'the result');
  assert.equal(got[0].payload.ok, true, got[0].payload.error);
  assert.equal(got[0].payload.confirmation, 'notification');
  assert.equal(got[0].payload.signature, 'd');
  assert.equal(gx.sim.service(EDGE)!.getValue('/Settable/Double')!.value, 21);
  assert.match(sub.messages.find((m) => m.topic === `W/${P}/edge/7/Settable/Double`)!.payload, /^\{"value":21\.0,/, '21 to a double goes as 21.0');
  assert.deepEqual(last(s1), { fill: 'green', shape: 'dot', text: 'written 21' });
  // the GX does not carry it out and says nothing: ok, but not confirmed
  helper.getNode('w2').receive({ payload: 5 });
  helper.getNode('w2').receive({ payload: 6 });
  await waitUntil(() => got.length === 3, 15000, 'two unconfirmed results');
  for (const m of got.slice(1)) {
    assert.equal(m.payload.ok, true);
    assert.equal(m.payload.confirmation, 'unconfirmed');
  }
  assert.deepEqual(last(s2), { fill: 'yellow', shape: 'dot', text: 'sent, not confirmed' });
  assert.equal(warns.length, 1, `said once per item: ${warns.join('\n')}`);
  assert.match(warns[0], /did not confirm it .* may be read-only on the GX/);
  assert.equal(caught.length, 0, 'not a failure for Catch nodes');
  // refused before anything is sent: a fraction to an int32 item
  sub.clear();
  helper.getNode('w3').receive({ payload: 2.5 });
  await waitUntil(() => caught.length === 1, 5000, 'the refusal');
  assert.match(caught[0].error.message, /fraction/);
  await sleep(100);
  assert.equal(sub.messages.filter((m) => m.topic.startsWith('W/')).length, 0, 'nothing was sent');
});

test('gx-keepalive over the GX\'s broker: a full one first asks the GX for a fresh full publish, then republishes; suppressed ones do not', async () => {
  await helper.load(NODES, [
    cfg(),
    { id: 'k', type: 'gx-keepalive', server: 'rcfg', interval: 0, suppress: true, echo: true, wires: [['done']] },
    { id: 'n', type: 'gx-notify', server: 'rcfg', filter: 'battery/256/Soc', when: 'alive', wires: [['out']] },
    { id: 'done', type: 'helper' }, { id: 'out', type: 'helper' },
  ]);
  const done = collect(helper.getNode('done'));
  const out = collect(helper.getNode('out'));
  const c = await connectedConfig('rcfg', 20000);
  const order: string[] = [];
  c.controller.gateway.remote.on('log', (_l: string, t: string) => { if (/asking for a full republish/.test(t)) order.push('asked the GX'); });
  c.controller.engine.on('full-publish-completed', () => order.push('republished'));
  sub.clear();
  helper.getNode('k').receive({ payload: Date.now() });
  await waitUntil(() => done.length === 1, 8000, 'full_publish_completed');
  assert.match(done[0].payload['full-publish-completed-echo'], /^[0-9a-f]{16}$/);
  const asked = sub.messages.filter((m) => m.topic === `R/${P}/keepalive` && m.payload.includes('full-publish-completed-echo'));
  assert.equal(asked.length, 1, 'one full keep-alive to the GX');
  assert.deepEqual(order, ['asked the GX', 'republished'], 'the GX\'s fresh publish first');
  await waitUntil(() => out.some((m) => m.topic === `N/${P}/battery/256/Soc`), 2000, 'the republished value');
  assert.equal(c.controller.engine.alive, true);
  sub.clear();
  helper.getNode('k').receive({});
  await sleep(300);
  assert.equal(sub.messages.filter((m) => m.payload.includes('full-publish-completed-echo')).length, 0, 'a suppressed one asks the GX nothing');
  assert.equal(done.length, 1);
});

test('the GX goes quiet: every node shows it, messages carry msg.gx.stale, writes are refused; it recovers by itself (stopped, and SIGSTOP)', async () => {
  await helper.load(NODES, [
    tab, cfg(),
    { id: 'n', type: 'gx-notify', z: 'f1', server: 'rcfg', filter: 'battery/256/Soc', when: 'alive', wires: [['out']] },
    { id: 'r', type: 'gx-read', z: 'f1', server: 'rcfg', path: 'battery/256/Soc', wires: [['out']] },
    { id: 'w', type: 'gx-write', z: 'f1', server: 'rcfg', path: 'edge/7/Settable/Int', wires: [['wout']] },
    { id: 'k', type: 'gx-keepalive', z: 'f1', server: 'rcfg', interval: 0, wires: [[]] },
    { id: 'out', type: 'helper', z: 'f1' }, { id: 'wout', type: 'helper', z: 'f1' }, catcher, caughtNode,
  ]);
  const out = collect(helper.getNode('out'));
  const wout = collect(helper.getNode('wout'));
  const caught = collect(helper.getNode('caught'));
  const c = await connectedConfig('rcfg', 20000);
  const statuses = Object.fromEntries(['n', 'r', 'w', 'k'].map((id) => [id, statusesOf(id)]));
  const configLog = linesOf(c, ['warn', 'log']);
  const stale = { fill: 'yellow', shape: 'ring', text: 'GX not answering' };
  const quiet = () => Object.values(statuses).every((s) => s.length > 0 && JSON.stringify(last(s)) === JSON.stringify(stale));
  const before = gx.sim.service(EDGE)!.getValue('/Settable/Int')!.value;

  await gx.stopBridge();
  await waitUntil(quiet, 15000, 'every node shows "GX not answering"');
  assert.ok(configLog.some((l) => /stale: nothing heard from the GX for \d+ s/.test(l)), configLog.join('\n'));
  // a full keep-alive while stale republishes the last values known: marked stale
  helper.getNode('k').receive({});
  await waitUntil(() => out.some((m) => m.gx.stale === true), 5000, 'a stale-marked message');
  assert.equal(out.find((m) => m.gx.stale === true).topic, `N/${P}/battery/256/Soc`);
  // writing into a GX that does not answer: refused, with the reason, for Catch nodes too
  sub.clear();
  helper.getNode('w').receive({ payload: 9 });
  await waitUntil(() => caught.length === 1 && wout.length === 1, 5000, 'the refusal');
  assert.equal(wout[0].payload.ok, false);
  assert.match(wout[0].payload.error, /the GX is not answering/);
  assert.match(caught[0].error.message, /not written: the GX is not answering/);
  await sleep(100);
  assert.equal(sub.messages.filter((m) => m.topic.startsWith('W/')).length, 0, 'no W was sent');

  await gx.restartBridge();
  await waitUntil(() => ['n', 'r', 'w'].every((id) => last(statuses[id]).fill === 'green'), 15000, 'green again');
  assert.deepEqual(last(statuses.r), { fill: 'green', shape: 'dot', text: 'connected' });
  helper.getNode('w').receive({ payload: 9 });
  await waitUntil(() => wout.length === 2, 8000, 'a write again');
  assert.equal(wout[1].payload.ok, true, wout[1].payload.error);
  assert.equal(gx.sim.service(EDGE)!.getValue('/Settable/Int')!.value, 9);
  assert.notEqual(before, 9);
  // frozen, not gone: the socket stays open, nothing comes
  const pid = gx.bridge.started.proc.pid!;
  process.kill(pid, 'SIGSTOP');
  try {
    await waitUntil(quiet, 15000, '"GX not answering" while frozen');
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  await waitUntil(() => ['n', 'r', 'w'].every((id) => last(statuses[id]).fill === 'green'), 15000, 'green after SIGCONT');
  out.length = 0;
  helper.getNode('r').receive({});
  // (gx-notify shares the output: what the GX republishes after waking up may come too)
  await waitUntil(() => out.some((m) => m.gx.cause === 'read'), 5000, 'a read');
  assert.equal(out.find((m) => m.gx.cause === 'read').gx.stale, undefined);
});
