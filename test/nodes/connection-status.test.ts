// What a user sees when a connection does not work: the D-Bus address nobody serves, a broker
// that refuses the login or whose certificate is not trusted. A short reason in the status of
// the nodes that depend on it, one warning per distinct reason (not one per retry), retries
// that never stop, and recovery without a redeploy once the broker is fixed. Real
// dbus-daemon, real mosquitto with a password file and TLS.
import { after, afterEach, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { Variant } from 'dbus-next';
import { GxSimulator } from '../../src/sim';
import { dbusReasonOf } from '../../src/nodes/dbus-problem';
import { brokerProblemOf } from '../../src/mqtt/broker-problem';
import { startPrivateBus, PrivateBus } from '../support/dbus-daemon';
import { waitUntil } from '../support/engine-fixture';
import { helper, linesOf, NODES, statusesOf } from '../support/nr-helper';
import { freePort, tempDir } from '../support/processes';
import { startSecureMosquitto, SecureBroker } from '../support/secure-mosquitto';

const TLS_NODE = require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', 'network', '05-tls.js'));
const P = 'connstatus01';
let bus: PrivateBus;
let sim: GxSimulator;
let broker: SecureBroker;

before(async () => {
  bus = await startPrivateBus();
  sim = new GxSimulator({ address: bus.address });
  await sim.addService({ name: 'com.victronenergy.system', paths: { '/Serial': new Variant('s', P) } });
  broker = await startSecureMosquitto({ gx: 'right-password' });
});

afterEach(() => helper.unload());

after(async () => {
  await sim.stop();
  await broker.stop();
  await bus.stop();
});

test('the reasons in a few words', () => {
  assert.equal(dbusReasonOf('D-Bus error: connect ENOENT /run/x/bus.sock'), 'no D-Bus socket');
  assert.equal(dbusReasonOf('D-Bus error: connect ECONNREFUSED 127.0.0.1:78'), 'D-Bus refused');
  assert.equal(dbusReasonOf('no answer from tcp:host=192.168.1.20,port=78'), 'D-Bus timeout');
  assert.equal(dbusReasonOf('D-Bus error: getaddrinfo ENOTFOUND venus.local'), 'D-Bus host unknown');
  assert.equal(dbusReasonOf('the D-Bus connection ended'), 'disconnected');
  const e = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});
  assert.deepEqual(brokerProblemOf(e('Connection refused: Not authorized')), { reason: 'not authorized', permanent: true, detail: 'Connection refused: Not authorized' });
  assert.equal(brokerProblemOf(e('Connection refused: Bad username or password')).reason, 'not authorized');
  assert.equal(brokerProblemOf(e('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN')).reason, 'TLS: untrusted cert');
  assert.equal(brokerProblemOf(e('certificate has expired', 'CERT_HAS_EXPIRED')).reason, 'TLS: cert expired');
  assert.deepEqual(brokerProblemOf(e('connect ECONNREFUSED 127.0.0.1:1883', 'ECONNREFUSED')).permanent, false);
});

test('D-Bus: a missing socket, a dead one, a refused TCP port: the reason in the status, one warning naming the address, again after a recovery', async () => {
  const missing = `unix:path=${path.join(tempDir('no-bus'), 'bus.sock')}`; // connect ENOENT
  const gone = await startPrivateBus();
  await gone.stop(); // its socket file stays, nobody listens: ECONNREFUSED
  const tcpPort = await freePort(); // nobody listens: ECONNREFUSED
  try {
    await helper.load(NODES, [
      { id: 'c0', type: 'gx-config', dbusAddress: missing, portalId: P },
      { id: 'c1', type: 'gx-config', dbusAddress: gone.address, portalId: P },
      { id: 'c2', type: 'gx-config', dbusAddress: `127.0.0.1:${tcpPort}`, portalId: P },
      { id: 'n0', type: 'gx-notify', server: 'c0', wires: [[]] },
      { id: 'n1', type: 'gx-notify', server: 'c1', wires: [[]] },
      { id: 'n2', type: 'gx-notify', server: 'c2', wires: [[]] },
    ]);
    const lines0 = linesOf(helper.getNode('c0'));
    const lines1 = linesOf(helper.getNode('c1'), ['warn', 'error', 'log']);
    const lines2 = linesOf(helper.getNode('c2'));
    const [s0, s1, s2] = [statusesOf('n0'), statusesOf('n1'), statusesOf('n2')];
    let failures = 0;
    helper.getNode('c0').controller.engine.on('state', (s: string) => { if (s === 'disconnected') failures++; });
    await waitUntil(() => failures >= 3, 10000, 'three failed attempts (the tracker retries with backoff)');
    await waitUntil(() => s1.length >= 2 && s2.length >= 2, 5000, 'the other two failed');
    assert.deepEqual(s0.map((s) => [s.fill, s.shape, s.text]), [['yellow', 'ring', 'connecting'], ['red', 'ring', 'no D-Bus socket']],
      'no red/yellow flapping while it retries');
    // a stopped dbus-daemon may or may not remove its socket file
    const deadReason = /^(D-Bus refused|no D-Bus socket)$/;
    const deadLine = (l: string) => l.startsWith('warn') && /ECONNREFUSED|ENOENT/.test(l);
    assert.match(s1[s1.length - 1].text, deadReason);
    assert.equal(s2[s2.length - 1].text, 'D-Bus refused');
    assert.deepEqual(lines0.length, 1, lines0.join('\n'));
    assert.match(lines0[0], /^warn D-Bus unix:path=.*bus\.sock: connect ENOENT .*bus\.sock; retrying$/, 'the warning names the address and the reason');
    assert.equal(lines1.filter(deadLine).length, 1, lines1.join('\n'));
    assert.equal(lines2.filter((l) => l.includes('ECONNREFUSED')).length, 1, lines2.join('\n'));
    assert.ok(lines2.some((l) => l.includes(`tcp:host=127.0.0.1,port=${tcpPort}`)), lines2.join('\n'));
    // the bus comes up: connected, said once; it goes again: the reason is warned about again
    await gone.restart();
    const back = new GxSimulator({ address: gone.address });
    await back.addService({ name: 'com.victronenergy.system', paths: { '/Serial': new Variant('s', P) } });
    await waitUntil(() => s1[s1.length - 1].text === 'connected', 10000, 'connected');
    assert.ok(lines1.some((l) => l.startsWith('log') && /connected to D-Bus .* again/.test(l)), lines1.join('\n'));
    await back.stop();
    await gone.stop();
    await waitUntil(() => lines1.filter(deadLine).length === 2, 10000, 'warned again after the recovery');
    await waitUntil(() => deadReason.test(s1[s1.length - 1].text));
  } finally {
    await helper.unload();
    await gone.stop();
  }
});

test('broker: a refused login is red "not authorized" on gx-keepalive only, retried slowly, warned once; fixed on the broker, it recovers without a redeploy', async () => {
  broker.setUsers({ gx: 'right-password' });
  await helper.load(NODES, [
    { id: 'f1', type: 'tab' },
    { id: 'cfg', type: 'gx-config', dbusAddress: bus.address, broker: `mqtt://127.0.0.1:${broker.port}`, clientId: 'gx-conn-test' },
    { id: 'k', type: 'gx-keepalive', z: 'f1', server: 'cfg', interval: 30, wires: [[]] },
    { id: 'n', type: 'gx-notify', z: 'f1', server: 'cfg', when: 'always', wires: [[]] },
    { id: 'r', type: 'gx-read', z: 'f1', server: 'cfg', path: 'system/0/Serial', wires: [[]] },
  ], { cfg: { username: 'gx', password: 'wrong-password' } });
  const c = helper.getNode('cfg');
  const lines = linesOf(c);
  const k = statusesOf('k');
  const n = statusesOf('n');
  const r = statusesOf('r');
  const errors: string[] = [];
  c.controller.gateway.link.on('broker-error', (e: Error) => errors.push(e.message));
  await waitUntil(() => k.some((s) => s.text === 'not authorized'), 10000, 'not authorized');
  const refused = k.find((s) => s.text === 'not authorized');
  assert.deepEqual([refused.fill, refused.shape], ['red', 'ring']);
  await waitUntil(() => errors.length >= 2, 15000, 'a second attempt (MQTT.js no longer gives up after a refused login)');
  assert.equal(lines.filter((l) => /Not authorized/.test(l)).length, 1, lines.join('\n'));
  assert.match(lines.find((l) => /Not authorized/.test(l))!, /retrying every 60 s at most until it is fixed/);
  assert.ok(!lines.join('\n').includes('wrong-password'), 'no password in the log');
  // the nodes that do not use the broker show the GX only
  assert.equal(n[n.length - 1].text, 'connected');
  assert.equal(r[r.length - 1].text, 'connected');
  assert.ok(![...n, ...r].some((s) => /broker|authorized/.test(s.text)), JSON.stringify([...n, ...r]));
  // the broker's admin fixes the password: the link picks it up by itself
  broker.setUsers({ gx: 'wrong-password' });
  await waitUntil(() => k.length > 0 && k[k.length - 1].text === 'alive', 30000, 'gx-keepalive alive again (its 30 s keep-alive sent at once)');
  assert.equal(c.controller.gateway.link.state, 'connected');
  assert.ok(c.controller.gateway.link.problem === undefined);
});

test('broker over TLS: an untrusted certificate is red "TLS: untrusted cert"; with the CA in a tls-config node it connects', async () => {
  broker.setUsers({ gx: 'pw' });
  await helper.load([...NODES, TLS_NODE], [
    { id: 'f1', type: 'tab' },
    { id: 'cfg', type: 'gx-config', dbusAddress: bus.address, broker: `mqtts://127.0.0.1:${broker.tlsPort}` },
    { id: 'k', type: 'gx-keepalive', z: 'f1', server: 'cfg', interval: 0, wires: [[]] },
    { id: 'tls', type: 'tls-config', cert: '', key: '', ca: broker.caFile, verifyservercert: true },
    { id: 'cfg2', type: 'gx-config', dbusAddress: bus.address, broker: `mqtts://127.0.0.1:${broker.tlsPort}`, tls: 'tls' },
    { id: 'k2', type: 'gx-keepalive', z: 'f1', server: 'cfg2', interval: 0, wires: [[]] },
  ], { cfg: { username: 'gx', password: 'pw' }, cfg2: { username: 'gx', password: 'pw' } });
  const k = statusesOf('k');
  const k2 = statusesOf('k2');
  const lines = linesOf(helper.getNode('cfg'));
  await waitUntil(() => k.some((s) => s.text === 'TLS: untrusted cert'), 10000, 'TLS: untrusted cert');
  assert.equal(k.find((s) => s.text === 'TLS: untrusted cert').fill, 'red');
  assert.ok(lines.some((l) => /certificate/i.test(l)), lines.join('\n'));
  await waitUntil(() => helper.getNode('cfg2').controller.gateway.link.state === 'connected', 10000, 'TLS with the CA');
  // connected: gx-keepalive says whether the bridge is alive (not, with no keep-alive sent yet)
  await waitUntil(() => k2.length > 0 && /^(not )?alive$/.test(k2[k2.length - 1].text), 10000, 'gx-keepalive connected with the CA');
});

test('a broker URL with a user name or password is refused: a config error pointing to the credential fields, no secret anywhere', async () => {
  await helper.load(NODES, [
    { id: 'f1', type: 'tab' },
    { id: 'cfg', type: 'gx-config', dbusAddress: bus.address, broker: `mqtt://bob:UrlS3cret@127.0.0.1:${broker.port}` },
    { id: 'k', type: 'gx-keepalive', z: 'f1', server: 'cfg', interval: 0, wires: [[]] },
    { id: 'c1', type: 'catch', z: 'f1', wires: [['caught']] }, { id: 'caught', type: 'helper', z: 'f1' },
  ]);
  const c = helper.getNode('cfg');
  assert.match(c.controller.configError, /contains a user name or password: remove it from the URL and put it in the Username and Password fields/);
  assert.ok(!c.controller.configError.includes('UrlS3cret'));
  assert.equal(c.controller.gateway, undefined, 'nothing connects with it');
  const caught: any[] = [];
  helper.getNode('caught').on('input', (m: any) => caught.push(m));
  helper.getNode('k').receive({});
  await waitUntil(() => caught.length === 1);
  assert.match(caught[0].error.message, /its GX config node has an error: the broker URL 'mqtt:\/\/127.0.0.1:\d+' contains a user name/);
  assert.ok(!JSON.stringify(caught).includes('UrlS3cret'));
});
