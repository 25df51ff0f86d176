// The three ways to a GX that is not on this machine's D-Bus, as a gx-config node is set up for
// them in the real Node-RED runtime: the GX's broker with TLS (its own venus.local certificate
// pinned through the editor's "Fetch from the GX", or a tls-config node) and a pairing token;
// VRM with an e-mail address and an access token, two installations over one login; and a GX
// reached over MQTT bridged to another broker under a topic prefix (mosquitto_sub/pub there).
// The GX is our own gx-bridge over the simulator behind a real mosquitto; secrets never show.
import { after, afterEach, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { publish, startMosquitto, Broker, Subscriber } from '../support/mosquitto';
import { freePort, tempDir } from '../support/processes';
import { makeCertificates } from '../support/secure-mosquitto';
import { sleep, waitUntil } from '../support/engine-fixture';
import { collect, connectedConfig, helper, linesOf, NODES, statusesOf, withAdminServer } from '../support/nr-helper';
import { GxBehindBroker, startGxBehindBroker } from '../support/remote-gx';

const TLS_NODE = require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', 'network', '05-tls.js'));
const P = 'tlsnodes0001';
const TOKEN_USER = 'token/nodered/nodes1';
const TOKEN_PASSWORD = 'Zq8yT0kEw3bVnm4Lr7uXcA2sD9fGh1Jp';
const VRM_EMAIL = 'owner@example.com';
const VRM_TOKEN = 'b5c0ffee0123456789abcdef0123456789abcdef0123456789abcdef01234567';
const P1 = 'vrmportal001';
const P2 = 'vrmportal002';

let dir: string;
let f: (n: string) => string;
let gxBroker: Broker;
let ports: { tls: number; gx: number };
let gx: GxBehindBroker;

before(async () => {
  dir = tempDir('nodes-tls');
  f = (n) => path.join(dir, n);
  makeCertificates(dir); // ca.crt, server.crt/key for 127.0.0.1
  // the GX's broker certificate as Venus OS makes it, and another GX's
  for (const name of ['gx', 'other']) {
    execFileSync('openssl', ['req', '-subj', '/CN=venus.local', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${name}.key`), '-x509',
      '-days', '2', '-out', f(`${name}.crt`)], { stdio: 'pipe' });
  }
  fs.chmodSync(dir, 0o755);
  for (const n of fs.readdirSync(dir)) fs.chmodSync(f(n), 0o644);
  ports = { tls: await freePort(), gx: await freePort() };
  gxBroker = await startMosquitto({
    users: [
      { name: TOKEN_USER, password: TOKEN_PASSWORD, acl: ['topic read N/#', 'topic write R/#', 'topic write W/#'] },
      { name: 'gx', password: 'gx-side-secret', acl: ['topic readwrite #'] },
    ],
    extraConf: [
      `listener ${ports.tls} 127.0.0.1`, `cafile ${f('ca.crt')}`, `certfile ${f('server.crt')}`, `keyfile ${f('server.key')}`,
      `listener ${ports.gx} 127.0.0.1`, `certfile ${f('gx.crt')}`, `keyfile ${f('gx.key')}`,
    ],
  });
  gx = await startGxBehindBroker(P, ['ess-gx.json'], { broker: gxBroker, bridgeArgs: ['--username', 'gx', '--password', 'gx-side-secret'] });
});

afterEach(() => helper.unload());

after(async () => {
  await gx?.close();
  await gxBroker?.stop();
});

const token = { gxUsername: TOKEN_USER, gxPassword: TOKEN_PASSWORD };
const lanTls = (id: string, extra: object) => ({ id, type: 'gx-config', source: 'lan', portalId: P, staleSeconds: 6, ...extra });
const last = (s: any[]) => s[s.length - 1];
const secrets = [TOKEN_PASSWORD, VRM_TOKEN, 'gx-side-secret'];
const noSecret = (what: string, text: string) => {
  for (const s of secrets) assert.ok(!text.includes(s), `no secret in ${what}`);
};

test('LAN with TLS: the GX\'s own certificate fetched and pinned, a pairing token; values, no secret in logs, messages or admin answers', async () => {
  await withAdminServer(async () => {
    await helper.load(NODES, []);
    const fetched = await helper.request().post('/gx-config/gx-certificate').send({ url: `mqtts://127.0.0.1:${ports.gx}` }).expect(200);
    assert.equal(fetched.body.pem.trim(), fs.readFileSync(f('gx.crt'), 'utf8').trim());
    assert.match(fetched.body.subject, /CN=venus\.local/);
    assert.equal(fetched.body.selfSigned, true);
    assert.match(fetched.body.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const plain = await helper.request().post('/gx-config/gx-certificate').send({ url: 'mqtt://127.0.0.1:1883' }).expect(400);
    assert.match(plain.body.error, /use mqtts:\/\/ \(port 8883\)/);
    await helper.request().post('/gx-config/gx-certificate').send({ url: 'mqtts://user:pw@host' }).expect(400);
    await helper.unload();

    await helper.load(NODES, [
      lanTls('pinnedCfg', { gxUrl: `mqtts://127.0.0.1:${ports.gx}`, gxCertMode: 'pinned', gxCert: fetched.body.pem }),
      { id: 'n', type: 'gx-notify', server: 'pinnedCfg', filter: 'battery/256/#', initial: true, wires: [['out']] },
      { id: 'w', type: 'gx-write', server: 'pinnedCfg', path: 'settings/0/Settings/CGwacs/AcPowerSetPoint', wires: [['out']] },
      { id: 'out', type: 'helper' },
    ], { pinnedCfg: token });
    const out = collect(helper.getNode('out'));
    const c = helper.getNode('pinnedCfg');
    const logs = linesOf(c, ['warn', 'error', 'log', 'debug']);
    await connectedConfig('pinnedCfg', 20000);
    await waitUntil(() => out.some((m) => m.topic === `N/${P}/battery/256/Soc`), 5000, 'values');
    helper.getNode('w').receive({ payload: -55 });
    await waitUntil(() => out.some((m) => m.payload?.ok === true), 8000, 'the write');
    assert.equal(gx.sim.service('com.victronenergy.settings')!.getValue('/Settings/CGwacs/AcPowerSetPoint')!.value, -55);
    const items = await helper.request().get('/gx-config/pinnedCfg/items').expect(200);
    assert.ok(items.body.total > 100);
    noSecret('the log', logs.join('\n'));
    noSecret('messages', JSON.stringify(out));
    noSecret('the admin item list', JSON.stringify(items.body));
    noSecret('the deployed flow', JSON.stringify((helper as any)._redNodes.getFlows()));
  });
});

test('LAN with TLS: a tls-config node with the broker\'s CA works too', async () => {
  await helper.load([TLS_NODE, ...NODES], [
    { id: 'tls1', type: 'tls-config', cert: '', key: '', ca: f('ca.crt'), verifyservercert: true },
    lanTls('viaTls', { gxUrl: `mqtts://127.0.0.1:${ports.tls}`, gxCertMode: 'tls-config', gxTls: 'tls1' }),
    { id: 'n', type: 'gx-notify', server: 'viaTls', filter: 'system/0/Serial', initial: true, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ], { viaTls: token });
  const out = collect(helper.getNode('out'));
  await connectedConfig('viaTls', 20000);
  await waitUntil(() => out.length >= 1, 5000, 'the serial');
  assert.equal(out[0].topic, `N/${P}/system/0/Serial`);
  assert.equal(out[0].payload, gx.sim.service('com.victronenergy.system')!.getValue('/Serial')!.value);
});

test('LAN set-ups that cannot work say why: another GX\'s certificate, a wrong password, no certificate, no portal ID, the GX\'s own broker as the broker', async () => {
  await helper.load(NODES, [
    lanTls('wrongCert', { gxUrl: `mqtts://127.0.0.1:${ports.gx}`, gxCert: fs.readFileSync(f('other.crt'), 'utf8') }),
    lanTls('wrongPw', { gxUrl: `mqtts://127.0.0.1:${ports.gx}`, gxCert: fs.readFileSync(f('gx.crt'), 'utf8') }),
    lanTls('noCert', { gxUrl: `mqtts://127.0.0.1:${ports.gx}` }),
    lanTls('noPortal', { gxUrl: `mqtt://127.0.0.1:${gxBroker.port}`, portalId: '' }),
    // bridged onto the GX's own broker (another name for this machine), no topic prefix: a loop
    lanTls('loops', { gxUrl: `mqtt://127.0.0.1:${gxBroker.port}`, broker: `mqtt://localhost:${gxBroker.port}` }),
    ...['wrongCert', 'wrongPw', 'noCert', 'noPortal', 'loops'].map((id) => ({ id: `n-${id}`, type: 'gx-notify', server: id, wires: [[]] })),
  ], { wrongCert: token, wrongPw: { gxUsername: TOKEN_USER, gxPassword: 'not-the-token' } });
  const s = Object.fromEntries(['wrongCert', 'wrongPw'].map((id) => [id, statusesOf(`n-${id}`)]));
  const logs = linesOf(helper.getNode('wrongCert'));
  await waitUntil(() => last(s.wrongCert)?.text === 'GX cert not trusted', 10000, 'GX cert not trusted');
  assert.deepEqual(last(s.wrongCert), { fill: 'red', shape: 'ring', text: 'GX cert not trusted' });
  await waitUntil(() => last(s.wrongPw)?.text === 'GX: not authorized', 10000, 'GX: not authorized');
  assert.equal(last(s.wrongPw).fill, 'red');
  assert.ok(logs.some((l) => /shows another certificate than the one given \(pinned\).*Fetch from the GX/.test(l)), logs.join('\n'));
  for (const [id, why] of [['noCert', /the GX's own certificate is missing.*Fetch from the GX/], ['noPortal', /needs its Portal ID/],
    ['loops', /the broker mqtt:\/\/localhost:\d+ is the GX's own broker .*a loop\. Bridge to another broker, or give a topic prefix/]] as const) {
    const c = helper.getNode(id);
    assert.equal(c.controller.status.text, 'config error', id);
    assert.match(c.controller.configError, why);
  }
  await sleep(200);
  noSecret('the log', logs.join('\n'));
});

test('VRM: two installations over one VRM login (one broker), each config node its own portal; a wrong token says so', async () => {
  // VRM's broker as far as the palette can tell: one login that may see two portal IDs
  const vrm = await startMosquitto({
    users: [
      { name: 'gx', password: 'gx-side-secret', acl: ['topic readwrite #'] },
      {
        name: VRM_EMAIL, password: `Token ${VRM_TOKEN}`,
        acl: [P1, P2].flatMap((p) => [`topic read N/${p}/#`, `topic read S/${p}/#`, `topic write R/${p}/#`, `topic write W/${p}/#`]),
      },
    ],
  });
  const bridgeArgs = ['--username', 'gx', '--password', 'gx-side-secret'];
  const one = await startGxBehindBroker(P1, ['ess-gx.json'], { broker: vrm, bridgeArgs });
  const two = await startGxBehindBroker(P2, ['remote-edge.json'], { broker: vrm, bridgeArgs });
  helper.settings({ gxConfigVrmBrokerUrl: vrm.url });
  try {
    const vrmCfg = (id: string, portalId: string) => ({ id, type: 'gx-config', source: 'vrm', vrmTransport: 'mqtts', portalId });
    const login = { vrmEmail: VRM_EMAIL, vrmToken: VRM_TOKEN };
    await helper.load(NODES, [
      vrmCfg('v1', P1), vrmCfg('v2', P2), vrmCfg('v3', P1),
      { id: 'n1', type: 'gx-notify', server: 'v1', filter: '#', initial: true, wires: [['o1']] },
      { id: 'n2', type: 'gx-notify', server: 'v2', filter: '#', initial: true, wires: [['o2']] },
      { id: 'n3', type: 'gx-notify', server: 'v3', wires: [[]] },
      { id: 'w2', type: 'gx-write', server: 'v2', path: 'system/0/Relay/0/State', wires: [['o2']] },
      { id: 'o1', type: 'helper' }, { id: 'o2', type: 'helper' },
    ], { v1: login, v2: login, v3: { vrmEmail: VRM_EMAIL, vrmToken: 'expired-token' } });
    const o1 = collect(helper.getNode('o1'));
    const o2 = collect(helper.getNode('o2'));
    const s3 = statusesOf('n3');
    const c1 = await connectedConfig('v1', 20000);
    await connectedConfig('v2', 20000);
    assert.equal(c1.controller.sourceKind, 'vrm');
    await waitUntil(() => o1.some((m) => m.topic.includes('/battery/256/')) && o2.some((m) => m.topic.includes('/edge/7/')), 5000, 'both');
    assert.ok(o1.every((m) => m.topic.startsWith(`N/${P1}/`)), 'v1 sees its own installation only');
    assert.ok(o2.every((m) => m.topic.startsWith(`N/${P2}/`)), 'v2 sees its own installation only');
    assert.ok(!o2.some((m) => m.topic.includes('/battery/256/')));
    helper.getNode('w2').receive({ payload: 1 });
    await waitUntil(() => o2.some((m) => m.payload?.ok === true), 8000, 'the write');
    assert.equal(two.sim.service('com.victronenergy.system')!.getValue('/Relay/0/State')!.value, 1);
    assert.notEqual(one.sim.service('com.victronenergy.system')!.getValue('/Relay/0/State')!.value, 1, 'the other installation is untouched');
    await waitUntil(() => last(s3)?.text === 'VRM: not authorized', 10000, 'VRM: not authorized');
    assert.equal(last(s3).fill, 'red');
    noSecret('messages', JSON.stringify([o1, o2], (_k, v) => (typeof v === 'bigint' ? String(v) : v)));
  } finally {
    helper.settings({ gxConfigVrmBrokerUrl: undefined });
    await helper.unload();
    await two.close();
    await one.close();
    await vrm.stop();
  }
});

test('a GX over MQTT bridged to another broker under a topic prefix: the full publish, R and W there, as for a D-Bus GX', async () => {
  const b = await startMosquitto();
  const subB = await new Subscriber(b.port, ['victron/#', `N/${P}/#`]).start();
  try {
    await helper.load(NODES, [
      {
        id: 'bridge', type: 'gx-config', source: 'lan', gxUrl: `mqtt://127.0.0.1:${gxBroker.port}`, portalId: P,
        broker: b.url, topicPrefix: 'victron/',
      },
      { id: 'k', type: 'gx-keepalive', server: 'bridge', interval: 0, wires: [[]] },
    ], { bridge: token });
    const ks = statusesOf('k');
    await connectedConfig('bridge', 20000);
    await waitUntil(() => last(ks)?.text === 'not alive', 10000, 'the broker connected too');
    await publish(b.port, `victron/R/${P}/keepalive`, '{"keepalive-options":[{"full-publish-completed-echo":"onB"}]}');
    const done = await subB.waitFor((m) => m.topic === `victron/N/${P}/full_publish_completed` && m.payload.includes('"onB"'), 10000);
    // what came out, not what we sent (victron/R/…)
    const published = subB.messages.slice(0, subB.messages.indexOf(done)).filter((m) => !m.topic.startsWith('victron/R/'));
    assert.ok(published.length > 500, `the whole GX (${published.length})`);
    const outside = published.filter((m) => !m.topic.startsWith(`victron/N/${P}/`)).map((m) => m.topic);
    assert.deepEqual(outside, [], 'everything under the prefix');
    const soc = published.find((m) => m.topic === `victron/N/${P}/battery/256/Soc`)!;
    assert.deepEqual(JSON.parse(soc.payload), { value: gx.sim.service('com.victronenergy.battery.ttyO0')!.getValue('/Soc')!.value });
    assert.equal(published.find((m) => m.topic === `victron/N/${P}/settings/0/Settings/CGwacs/AcPowerSetPoint`)?.payload.startsWith('{"max":'), true);
    // W on the other broker reaches the GX's D-Bus through the GX's broker
    await publish(b.port, `victron/W/${P}/settings/0/Settings/CGwacs/AcPowerSetPoint`, '{"value": 42}');
    const settings = gx.sim.service('com.victronenergy.settings')!;
    await waitUntil(() => settings.getValue('/Settings/CGwacs/AcPowerSetPoint')!.value === 42, 8000, 'the write on D-Bus');
    // R on the other broker is answered there, from the GX (not from the cache)
    settings.setValue('/Settings/CGwacs/MaxFeedInPower', 4321, { signal: false });
    subB.clear();
    await publish(b.port, `victron/R/${P}/settings/0/Settings/CGwacs/MaxFeedInPower`, '');
    const r = await subB.waitFor((m) => m.topic === `victron/N/${P}/settings/0/Settings/CGwacs/MaxFeedInPower`, 8000);
    assert.equal(JSON.parse(r.payload).value, 4321);
    // without the prefix nothing answers
    subB.clear();
    await publish(b.port, `R/${P}/keepalive`, '');
    await sleep(500);
    assert.equal(subB.messages.filter((m) => m.topic.startsWith(`N/${P}/`)).length, 0);
  } finally {
    await helper.unload();
    await subB.stop();
    await b.stop();
  }
});
