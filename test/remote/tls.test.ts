// A GX's broker with TLS and passwords, as a GX in "paired devices only" mode is: mosquitto with
// a password file (the user named like a pairing token, token/<role>/<id>) and an ACL, a TLS
// listener with a certificate from a CA of ours, and one with a self-made venus.local
// certificate like the one Venus OS gives its broker. The token user may not read S/, so no
// write reply reaches it: writes are confirmed by notification.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { DIST } from '../support/bridge-process';
import { startMosquitto, Broker } from '../support/mosquitto';
import { freePort, startProcess, stopProcess, tempDir } from '../support/processes';
import { makeCertificates } from '../support/secure-mosquitto';
import { waitUntil } from '../support/engine-fixture';
import { GxBehindBroker, startGxBehindBroker, startRemoteEngine } from '../support/remote-gx';
import { RemoteGxSource } from '../../src/remote';

const P = 'tlsportal001';
const USER = 'token/nodered/gxbridge1';
const PASSWORD = 'hfNWPw7UmCKg4CiSZ1CKnnkjlBbArStO';
let dir: string;
let f: (n: string) => string;
let gxBroker: Broker;
let ports: { plain: number; tls: number; gx: number };
let gx: GxBehindBroker;
let b: Broker;

before(async () => {
  dir = tempDir('remote-tls');
  f = (n) => path.join(dir, n);
  makeCertificates(dir); // ca.crt, server.crt/key for 127.0.0.1
  // as Venus OS makes its broker's certificate (meta-victronenergy start-flashmq)
  execFileSync('openssl', ['req', '-subj', '/CN=venus.local', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('gx.key'), '-x509', '-days', '2',
    '-out', f('gx.crt')], { stdio: 'pipe' });
  // mosquitto started as root reads its files as the 'mosquitto' user
  fs.chmodSync(dir, 0o755);
  for (const n of fs.readdirSync(dir)) fs.chmodSync(f(n), 0o644);
  ports = { plain: 0, tls: await freePort(), gx: await freePort() };
  gxBroker = await startMosquitto({
    users: [
      { name: USER, password: PASSWORD, acl: ['topic read N/#', 'topic write R/#', 'topic write W/#'] },
      { name: 'gx', password: 'gx-side-secret', acl: ['topic readwrite #'] },
    ],
    extraConf: [
      `listener ${ports.tls} 127.0.0.1`, `cafile ${f('ca.crt')}`, `certfile ${f('server.crt')}`, `keyfile ${f('server.key')}`,
      `listener ${ports.gx} 127.0.0.1`, `certfile ${f('gx.crt')}`, `keyfile ${f('gx.key')}`,
    ],
  });
  ports.plain = gxBroker.port;
  gx = await startGxBehindBroker(P, ['remote-edge.json'], { broker: gxBroker, bridgeArgs: ['--username', 'gx', '--password', 'gx-side-secret'] });
  b = await startMosquitto();
});

after(async () => {
  await gx?.close();
  await b?.stop();
  await gxBroker?.stop();
});

test('TLS with our CA and a pairing-token login: the whole GX, reads and writes', async () => {
  const remote = await startRemoteEngine(`mqtts://127.0.0.1:${ports.tls}`, P, { username: USER, password: PASSWORD, ca: fs.readFileSync(f('ca.crt')) });
  try {
    assert.ok(remote.engine.cache.itemCount > 40, `${remote.engine.cache.itemCount} items`);
    const w = await remote.engine.writeJson({ type: 'edge', instance: '7', path: '/Settable/Int' }, '{"value": 8}', 'flow');
    assert.equal(w.ok, true, w.error);
    assert.equal(w.confirmation, 'notification');
    assert.equal(gx.sim.service('com.victronenergy.edge.test0')!.getValue('/Settable/Int')!.value, 8);
    const r = await remote.engine.read({ type: 'edge', instance: '7', path: '/Settable/Int' });
    assert.equal(r[0].payload, '{"value":8}');
    assert.ok(!remote.logs.join('\n').includes(PASSWORD));
  } finally {
    await remote.close();
  }
});

test('wrong password, or a CA that does not vouch for the broker: never connected, the log says why', async () => {
  const logs: string[] = [];
  for (const opts of [
    { gx: `mqtts://127.0.0.1:${ports.tls}`, username: USER, password: 'wrong-one', ca: fs.readFileSync(f('ca.crt')) },
    { gx: `mqtts://127.0.0.1:${ports.tls}`, username: USER, password: PASSWORD }, // the default Venus CA
  ]) {
    const s = new RemoteGxSource({ ...opts, portalId: P, timing: { reconnectMinMs: 200 } });
    const had = logs.length;
    s.on('log', (_l: string, t: string) => logs.push(t));
    s.start();
    await waitUntil(() => logs.length > had, 5000, 'a log line');
    assert.notEqual(s.state, 'connected');
    await s.stop();
  }
  assert.match(logs.join('\n'), /Not authorized|Bad username or password/i);
  assert.match(logs.join('\n'), /not trusted by the CA given|unable to verify|self[- ]signed/i);
  assert.ok(!logs.join('\n').includes(PASSWORD) && !logs.join('\n').includes('wrong-one'));
});

function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(DIST, 'src', 'cli', 'gx-bridge.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    p.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    p.on('exit', (code) => resolve({ code, out, err }));
  });
}

test('a GX\'s own venus.local certificate: refused with advice, printed with --print-gx-cert, then trusted as given', async () => {
  const logs: string[] = [];
  const s = new RemoteGxSource({ gx: `mqtts://127.0.0.1:${ports.gx}`, portalId: P, username: USER, password: PASSWORD, timing: { reconnectMinMs: 200 } });
  s.on('log', (_l: string, t: string) => logs.push(t));
  s.start();
  await waitUntil(() => logs.length > 0, 5000, 'a log line');
  await s.stop();
  assert.match(logs.join('\n'), /the GX's certificate is its own .*`gx-bridge --print-gx-cert <gx-address>`.*--gx-ca/);
  const printed = await run(['--print-gx-cert', `127.0.0.1:${ports.gx}`]);
  assert.equal(printed.code, 0, printed.err);
  assert.match(printed.err, /CN=venus\.local \(self-signed\)/);
  assert.match(printed.err, /SHA-256 fingerprint ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
  assert.equal(printed.out.trim(), fs.readFileSync(f('gx.crt'), 'utf8').trim());
  fs.writeFileSync(f('pinned.crt'), printed.out);
  const remote = await startRemoteEngine(`mqtts://127.0.0.1:${ports.gx}`, P, { username: USER, password: PASSWORD, ca: fs.readFileSync(f('pinned.crt')) });
  assert.ok(remote.engine.cache.itemCount > 40);
  await remote.close();
});

test('gx-bridge takes the GX\'s password from GX_PASSWORD: not on its command line, not in its output', async () => {
  const started = await startProcess(process.execPath, [path.join(DIST, 'src', 'cli', 'gx-bridge.js'),
    '--gx', `mqtts://127.0.0.1:${ports.tls}`, '--gx-ca', f('ca.crt'), '--gx-username', USER, '--portal-id', P, '--broker', b.url],
  (o) => o.includes('gx-bridge ready'), { env: { ...process.env, GX_PASSWORD: PASSWORD }, timeoutMs: 20000 });
  try {
    assert.match(started.output(), /gx-bridge ready: GX mqtts:\/\/127\.0\.0\.1:\d+ \(portal tlsportal001\)/);
    const cmdline = fs.readFileSync(`/proc/${started.proc.pid}/cmdline`, 'utf8');
    assert.ok(!cmdline.includes(PASSWORD));
    assert.ok(!started.output().includes(PASSWORD));
  } finally {
    await stopProcess(started.proc);
  }
});
