// End to end: `gx-bridge --gx mqtt://A --broker mqtt://B` in front of a GX whose broker is A
// (the simulator behind our own gx-bridge on mosquitto A). On B it must behave as the GX does on
// A: the same topics and payload bytes after a keep-alive, writes reaching the GX's D-Bus, and A
// kept alive all along. With --topic-prefix it serves B under a prefix.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as path from 'path';
import { startBridge, BridgeProcess, DIST } from '../support/bridge-process';
import { publish, Received, startMosquitto, Broker, Subscriber } from '../support/mosquitto';
import { sleep, waitUntil } from '../support/engine-fixture';
import { FakeGx } from '../support/fake-gx';
import { freePort } from '../support/processes';
import { GxBehindBroker, startGxBehindBroker } from '../support/remote-gx';

const P = 'c0619ab1f00d';
let gx: GxBehindBroker;
let b: Broker;
let front: BridgeProcess;
let subA: Subscriber;
let subB: Subscriber;

before(async () => {
  // the GX forgets a keep-alive after 4 s: only our steady keep-alives keep it alive
  // the ESS system plus the service of awkward values (int64, escapes, non-ASCII, arrays, dicts…)
  // the GX's bridge refuses writes outside settings/…/CGwacs and vebus with its own reason
  gx = await startGxBehindBroker(P, ['ess-gx.json', 'remote-edge.json'], { bridgeArgs: ['--keepalive-seconds', '4',
    '--write-policy', 'patterns', '--write-patterns', 'settings/0/Settings/CGwacs/#,vebus/+/#'] });
  b = await startMosquitto();
  subA = await new Subscriber(gx.broker.port, [`N/${P}/#`]).start();
  subB = await new Subscriber(b.port, [`N/${P}/#`]).start();
  front = await startBridge(['--gx', gx.broker.url, '--portal-id', P, '--broker', b.url, '--gx-keepalive-seconds', '1']);
});

after(async () => {
  await front?.stop();
  await subA?.stop();
  await subB?.stop();
  await b?.stop();
  await gx?.close();
});

const SPECIAL = /\/(heartbeat|keepalive|full_publish_completed)$/;

/** A full keep-alive with an echo on one broker, and every item notification up to its completion. */
async function fullPublish(port: number, sub: Subscriber, echo: string): Promise<Map<string, string>> {
  sub.clear();
  await publish(port, `R/${P}/keepalive`, `{"keepalive-options":[{"full-publish-completed-echo":"${echo}"}]}`);
  const done = await sub.waitFor((m) => m.topic === `N/${P}/full_publish_completed` && m.payload.includes(`"${echo}"`), 10000);
  const upTo = sub.messages.indexOf(done);
  return new Map(sub.messages.slice(0, upTo).filter((m: Received) => !SPECIAL.test(m.topic)).map((m) => [m.topic, m.payload]));
}

test('ready line: the GX over MQTT, the broker, the portal and what was found', () => {
  assert.match(front.output(), new RegExp(`gx-bridge ready: GX mqtt://127\\.0\\.0\\.1:${gx.broker.port} \\(portal ${P}\\), broker mqtt://127\\.0\\.0\\.1:${b.port}, portal ${P}, 8 services, \\d+ items, mode flashmq`));
});

test('a keep-alive on B gives the same topics and payload bytes as one on the GX\'s broker A', async () => {
  const onA = await fullPublish(gx.broker.port, subA, 'onA');
  const onB = await fullPublish(b.port, subB, 'onB');
  assert.ok(onA.size > 850, `${onA.size} topics on A`);
  for (const t of ['edge/7/Int/Uint64', 'edge/7/String/Escapes', 'edge/7/Dict', 'edge/7/Double/Tiny', 'settings/0/Settings/Ble/Service/Pincode']) {
    assert.ok(onA.has(`N/${P}/${t}`), t);
  }
  assert.deepEqual([...onB.keys()].sort(), [...onA.keys()].sort());
  for (const [topic, payload] of onA) assert.equal(onB.get(topic), payload, topic);
  // the retained serial is on B as on A (N7)
  const late = await new Subscriber(b.port, [`N/${P}/system/0/Serial`], true).start();
  await late.stop();
  assert.deepEqual(late.messages.map((m) => [m.payload, m.retain]), [[`{"value":"${P}"}`, true]]);
});

test('a write on B reaches the GX\'s D-Bus; a read on B is answered on B', async () => {
  const settings = gx.sim.service('com.victronenergy.settings')!;
  await publish(b.port, `W/${P}/settings/0/Settings/CGwacs/AcPowerSetPoint`, '{"value": -120}');
  await waitUntil(() => settings.getValue('/Settings/CGwacs/AcPowerSetPoint')!.value === -120, 5000, 'the write on D-Bus');
  settings.setValue('/Settings/CGwacs/MaxFeedInPower', 1234, { signal: false });
  subB.clear();
  await publish(b.port, `R/${P}/settings/0/Settings/CGwacs/MaxFeedInPower`, '');
  const n = await subB.waitFor((m) => m.topic === `N/${P}/settings/0/Settings/CGwacs/MaxFeedInPower`);
  assert.equal(n.payload, '{"max":300000.0,"min":-1.0,"value":1234.0}');
});

test('names on B as on the GX: items named <type>/<instance> in refusals, the GX\'s own bus_error passed on, full bus names routed', async () => {
  const subS = await new Subscriber(b.port, [`S/${P}/#`]).start();
  const subSA = await new Subscriber(gx.broker.port, [`S/${P}/#`]).start();
  try {
    const w = (t: string, v: string, serial: number) => publish(b.port, `W/${P}/${t}`, `{"value":${v},"serial":${serial},"caller_id":"me"}`);
    const reply = (t: string) => subS.waitFor((m) => m.topic === `S/${P}/${t}`, 10000).then((m) => JSON.parse(m.payload) as Record<string, unknown>);
    await w('vebus/257/Hub4/L1/Nope', '1', 1);
    assert.equal((await reply('vebus/257/Hub4/L1/Nope')).bus_error, '/Hub4/L1/Nope is not a known item of vebus/257');
    // the GX refuses (its write policy): B's reply carries the GX's own text, as the GX sent it
    await w('battery/256/Soc', '50', 2);
    const own = JSON.parse((await subSA.waitFor((m) => m.topic === `S/${P}/battery/256/Soc`, 10000)).payload) as Record<string, unknown>;
    assert.match(String(own.bus_error), /polic|pattern/);
    assert.deepEqual(await reply('battery/256/Soc'), { bus_error: own.bus_error, caller_id: 'me', serial: 2 });
    // the full bus name, which B learns from the GX's system/0/ServiceMapping: only the exact one
    const vebus = gx.sim.service('com.victronenergy.vebus.ttyO1')!;
    await w('com.victronenergy.vebus.ttyO1/257/Hub4/L1/AcPowerSetpoint', '-321', 3);
    assert.equal((await reply('com.victronenergy.vebus.ttyO1/257/Hub4/L1/AcPowerSetpoint')).return_code, 0);
    assert.equal(vebus.getValue('/Hub4/L1/AcPowerSetpoint')!.value, -321);
    await w('com.victronenergy.vebus.ttyO2/257/Hub4/L1/AcPowerSetpoint', '-5', 4);
    assert.match(String((await reply('com.victronenergy.vebus.ttyO2/257/Hub4/L1/AcPowerSetpoint')).bus_error), /can't find/);
    assert.equal(vebus.getValue('/Hub4/L1/AcPowerSetpoint')!.value, -321);
    subB.clear();
    await publish(b.port, `R/${P}/com.victronenergy.vebus.ttyO1/257/Hub4/L1/AcPowerSetpoint`, '');
    await subB.waitFor((m) => m.topic === `N/${P}/vebus/257/Hub4/L1/AcPowerSetpoint` && m.payload === '{"value":-321}');
    await publish(b.port, `R/${P}/vebus/257/No/Such/Path`, '');
    await front.waitOutput(/read R\/c0619ab1f00d\/vebus\/257\/No\/Such\/Path failed: GetValue on vebus\/257 \/No\/Such\/Path failed/, 10000);
    assert.doesNotMatch(front.output(), /mqtt_\d/, 'the made-up service names never show');
  } finally {
    await subS.stop();
    await subSA.stop();
  }
});

test('a Serial read on B (the old keep-alive) is answered without making the GX republish everything', async () => {
  const reqA = await new Subscriber(gx.broker.port, [`R/${P}/system/0/Serial`]).start();
  try {
    subA.clear();
    subB.clear();
    await publish(b.port, `R/${P}/system/0/Serial`, '');
    await subB.waitFor((m) => m.topic === `N/${P}/system/0/Serial`, 10000);
    // what B passed on: a read that is a suppress-republish keep-alive for dbus-flashmq (K1, K4)
    const r = await reqA.waitFor(() => true);
    assert.match(r.payload, /"keepalive-options":\["suppress-republish"\]/);
    // A handles the keep-alive part first and answers the read after it: a republish would be
    // complete before A's answer
    const answer = await subA.waitFor((m) => m.topic === `N/${P}/system/0/Serial`);
    const before = subA.messages.slice(0, subA.messages.indexOf(answer));
    assert.equal(before.filter((m) => m.topic === `N/${P}/full_publish_completed`).length, 0);
    assert.ok(before.length < 50, `${before.length} messages on A before the answer`);
  } finally {
    await reqA.stop();
  }
});

test('the GX stays alive while gx-bridge is connected: heartbeats and changes keep coming on A', async () => {
  await sleep(6000); // longer than the GX's 4 s window
  subA.clear();
  gx.sim.service('com.victronenergy.battery.ttyO0')!.setValue('/Soc', 42.5);
  await subA.waitFor((m) => m.topic === `N/${P}/battery/256/Soc` && m.payload === '{"value":42.5}', 5000);
  await subA.waitFor((m) => m.topic === `N/${P}/heartbeat`, 5000);
});

test('--topic-prefix: on B everything lives under the prefix', async () => {
  const prefixed = await startBridge(['--gx', gx.broker.url, '--portal-id', P, '--broker', b.url, '--topic-prefix', 'ha/victron']);
  const sub = await new Subscriber(b.port, [`ha/victron/N/${P}/#`]).start();
  try {
    await publish(b.port, `ha/victron/R/${P}/keepalive`, '{"keepalive-options":[{"full-publish-completed-echo":"pfx"}]}');
    await sub.waitFor((m) => m.topic === `ha/victron/N/${P}/full_publish_completed` && m.payload.includes('"pfx"'), 10000);
    assert.ok(sub.messages.some((m) => m.topic === `ha/victron/N/${P}/battery/256/Soc`));
    assert.ok(sub.messages.every((m) => m.topic.startsWith(`ha/victron/N/${P}/`)));
    await publish(b.port, `ha/victron/W/${P}/settings/0/Settings/CGwacs/AcPowerSetPoint`, '{"value": 33}');
    const settings = gx.sim.service('com.victronenergy.settings')!;
    await waitUntil(() => settings.getValue('/Settings/CGwacs/AcPowerSetPoint')!.value === 33, 5000, 'the prefixed write');
  } finally {
    await sub.stop();
    await prefixed.stop();
  }
});

function runBridge(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(DIST, 'src', 'cli', 'gx-bridge.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    p.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    p.stderr.on('data', (c: Buffer) => { out += c.toString(); });
    p.on('exit', (code) => resolve({ code, out }));
  });
}

test('exactly one of --dbus and --gx, --gx with a portal ID, GX times in their ranges; else status 2 and why', async () => {
  for (const [args, why] of [
    [['--broker', b.url], /exactly one of --dbus .* and --gx/],
    [['--dbus', 'session', '--gx', 'vrm', '--portal-id', P, '--broker', b.url], /exactly one of --dbus/],
    [['--gx', gx.broker.url, '--broker', b.url], /--gx needs --portal-id/],
    [['--gx', 'vrm', '--portal-id', P, '--broker', b.url], /VRM needs your VRM e-mail address/],
    [['--gx', 'ftp://x', '--portal-id', P, '--broker', b.url], /is not a GX/],
    // a thousand keep-alives a second to the GX (or VRM), or 0 taken silently as the default: no
    ...['0.001', '0', '60', '-1'].map((n) => [['--gx', gx.broker.url, '--portal-id', P, '--broker', b.url, '--gx-keepalive-seconds', n],
      n === '-1' ? /must be a non-negative number/ : /--gx-keepalive-seconds must be at least 1 and below 60 seconds/] as const),
    ...['0', '5', '3601'].map((n) => [['--gx', gx.broker.url, '--portal-id', P, '--broker', b.url, '--gx-stale-seconds', n],
      /--gx-stale-seconds must be 6 to 3600 seconds/] as const),
    // the GX's own broker as the broker, without a topic prefix, under any of its names: a loop
    ...[[gx.broker.url, gx.broker.url], [`127.0.0.1:${gx.broker.port}`, `mqtt://localhost:${gx.broker.port}`],
      [`mqtt://LOCALHOST:${gx.broker.port}/`, `tcp://127.0.0.1:${gx.broker.port}`]].map(([g, broker]) =>
      [['--gx', g, '--portal-id', P, '--broker', broker], /is the GX's own broker .*a loop\. Bridge to another broker, or give a topic prefix/] as const),
  ] as const) {
    const r = await runBridge([...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.out, why);
  }
});

test('the GX\'s own broker under a name the URLs do not show (a second listener): the loop is found at once, bridging stops, exit status 1', async () => {
  const second = await freePort();
  const a = await startMosquitto({ extraConf: [`listener ${second} 127.0.0.1`] });
  const LP = 'fakeecho0001';
  const fake = await new FakeGx({ portal: LP, items: { 'vebus/257/Mode': '{"value":3}', 'battery/256/Soc': '{"value":50.0}' } }).start(a.url);
  const all = await new Subscriber(a.port, [`N/${LP}/#`, `R/${LP}/#`, `W/${LP}/#`]).start();
  try {
    const r = await runBridge(['--gx', a.url, '--portal-id', LP, '--broker', `mqtt://127.0.0.1:${second}`]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /handed this bridge's own request .* back: it is the GX's own broker, or bridged to it.*Stopped bridging to it/);
    assert.ok(all.messages.length < 200, `${all.messages.length} messages on the GX's broker: the loop was cut short`);
    // the same broker with a topic prefix is no loop: it serves there
    const prefixed = await startBridge(['--gx', a.url, '--portal-id', LP, '--broker', a.url, '--topic-prefix', 'mirror']);
    await prefixed.stop();
    assert.doesNotMatch(prefixed.output(), /loop/);
  } finally {
    await all.stop();
    await fake.stop();
    await a.stop();
  }
});
