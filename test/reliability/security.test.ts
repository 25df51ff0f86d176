// Security: the write policy holds whatever the source, masked settings are never echoed,
// credentials stay out of logs and status, and TLS certificates are verified unless the user
// says otherwise (and then it is said in the log).
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { GxSimulator } from '../../src/sim';
import { startPrivateBus, PrivateBus } from '../support/dbus-daemon';
import { publish, startMosquitto, Broker, Subscriber } from '../support/mosquitto';
import { startBridge, DIST } from '../support/bridge-process';
import { freePort, startProcess, stopProcess, tempDir } from '../support/processes';
import { sleep, waitUntil } from '../support/engine-fixture';
import { helper, NODES } from '../support/nr-helper';
import { makeCertificates } from '../support/secure-mosquitto';

let bus: PrivateBus;
let broker: Broker;
let sim: GxSimulator;
const P = 'securetest01';

before(async () => {
  bus = await startPrivateBus();
  broker = await startMosquitto();
  sim = new GxSimulator({ address: bus.address });
  await sim.addService({ name: 'com.victronenergy.settings', paths: {
    '/Settings/Ble/Service/Pincode': { type: 's', value: '000000' },
    '/Settings/CGwacs/AcPowerSetPoint': { type: 'd', value: 0 },
    '/Settings/Gui/Brightness': { type: 'i', value: 5 },
  } });
});

after(async () => {
  await sim.stop();
  await broker.stop();
  await bus.stop();
});

test('the write policy applies to W requests from the broker; refusals are logged', async () => {
  const b = await startBridge(['--dbus', bus.address, '--broker', broker.url, '--portal-id', P,
    '--write-policy', 'patterns', '--write-patterns', 'settings/0/Settings/CGwacs/#']);
  try {
    const settings = sim.service('com.victronenergy.settings')!;
    await publish(broker.port, `W/${P}/settings/0/Settings/Gui/Brightness`, '{"value": 9}');
    await publish(broker.port, `W/${P}/settings/0/Settings/CGwacs/AcPowerSetPoint`, '{"value": -300}');
    await waitUntil(() => settings.getValue('/Settings/CGwacs/AcPowerSetPoint')!.value === -300);
    await b.waitOutput(/Brightness refused: 'settings\/0\/Settings\/Gui\/Brightness' is not allowed by the write policy/);
    assert.equal(settings.getValue('/Settings/Gui/Brightness')!.value, 5);
  } finally {
    await b.stop();
  }
  const ro = await startBridge(['--dbus', bus.address, '--broker', broker.url, '--portal-id', P, '--write-policy', 'none']);
  try {
    await publish(broker.port, `W/${P}/settings/0/Settings/CGwacs/AcPowerSetPoint`, '{"value": 1}');
    await ro.waitOutput(/refused: writes are disabled \(read-only write policy\)/);
  } finally {
    await ro.stop();
  }
});

test('a written BLE pincode is never echoed: not in notifications, write results or logs', async () => {
  const b = await startBridge(['--dbus', bus.address, '--broker', broker.url, '--portal-id', P]);
  const sub = await new Subscriber(broker.port, [`N/${P}/#`]).start();
  try {
    await publish(broker.port, `R/${P}/keepalive`, '{"keepalive-options":["suppress-republish"]}');
    await publish(broker.port, `W/${P}/settings/0/Settings/Ble/Service/Pincode`, '{"value": "246810"}');
    const n = await sub.waitFor((m) => m.topic.endsWith('/Pincode'));
    assert.equal(n.payload, '{"value":"******"}');
    await publish(broker.port, `W/${P}/settings/0/Settings/Ble/Service/Pincode`, '{"value": "13579\\u0000"}');
    await b.waitOutput(/Pincode refused: the value does not fit a string item \(not shown: masked setting\)/);
    assert.ok(!b.output().includes('246810') && !b.output().includes('13579'), b.output());
  } finally {
    await sub.stop();
    await b.stop();
  }
  await helper.load(NODES, [
    { id: 'f1', type: 'tab' }, { id: 'cfg', type: 'gx-config', dbusAddress: bus.address, portalId: P },
    { id: 'w', type: 'gx-write', z: 'f1', server: 'cfg', path: 'settings/0/Settings/Ble/Service/Pincode', wires: [['h']] },
    { id: 'h', type: 'helper', z: 'f1' },
  ]);
  try {
    const got: any[] = [];
    helper.getNode('h').on('input', (m: any) => got.push(m));
    await waitUntil(() => helper.getNode('cfg').controller?.status?.text === 'connected');
    helper.getNode('w').receive({ payload: '112233' });
    await waitUntil(() => got.length === 1);
    assert.equal(got[0].payload.ok, true);
    assert.equal(got[0].payload.value, '******');
    assert.equal(sim.service('com.victronenergy.settings')!.getValue('/Settings/Ble/Service/Pincode')!.value, '112233');
  } finally {
    await helper.unload();
  }
});

test('broker credentials stay out of logs, status and the flow; URLs are shown without them', async () => {
  const port = await freePort(); // nothing listens: connection errors get logged
  const logged: string[] = [];
  // (a URL with credentials in it is refused: test/nodes/connection-status.test.ts)
  await helper.load(NODES, [
    { id: 'cfg', type: 'gx-config', dbusAddress: bus.address, broker: `mqtt://127.0.0.1:${port}` },
  ], { cfg: { username: 'bob', password: 'Cr3dS3cret' } });
  try {
    const cfg = helper.getNode('cfg');
    for (const level of ['log', 'warn', 'error']) cfg.on(`call:${level}`, (c: any) => logged.push(String(c.args[0])));
    await sleep(1500);
    const text = logged.join('\n') + JSON.stringify(cfg.controller.status);
    assert.ok(!/Cr3dS3cret/.test(text), text);
    assert.ok(!('password' in (cfg as object)), 'no password property on the node');
  } finally {
    await helper.unload();
  }
});

test('TLS: the broker certificate is verified unless told not to, and then the log says so', async () => {
  const dir = tempDir('tls');
  const f = (n: string) => path.join(dir, n);
  makeCertificates(dir);
  // mosquitto started as root reads its files as the 'mosquitto' user
  fs.chmodSync(dir, 0o755);
  for (const n of fs.readdirSync(dir)) fs.chmodSync(f(n), 0o644);
  const tlsPort = await freePort();
  fs.writeFileSync(f('mosquitto.conf'), `listener ${tlsPort} 127.0.0.1\nallow_anonymous true\ncafile ${f('ca.crt')}\n` +
    `certfile ${f('server.crt')}\nkeyfile ${f('server.key')}\nlog_dest stderr\n`);
  const tlsBroker = await startProcess('mosquitto', ['-c', f('mosquitto.conf')], (o) => o.includes(' running'));
  const url = `mqtts://127.0.0.1:${tlsPort}`;
  const bridgeJs = path.join(DIST, 'src', 'cli', 'gx-bridge.js');
  try {
    const refused = await startProcess(process.execPath, [bridgeJs, '--dbus', bus.address, '--broker', url, '--portal-id', P],
      (o) => /self[- ]signed|unable to verify|certificate/i.test(o), { timeoutMs: 15000 });
    assert.ok(!refused.output().includes('gx-bridge ready'), 'an unverified broker is not used');
    await stopProcess(refused.proc);
    const verified = await startBridge(['--dbus', bus.address, '--broker', url, '--portal-id', P, '--ca', f('ca.crt')]);
    assert.ok(!/NOT verified/.test(verified.output()));
    await verified.stop();
    const insecure = await startBridge(['--dbus', bus.address, '--broker', url, '--portal-id', P, '--insecure']);
    assert.match(insecure.output(), /TLS certificate of mqtts:\/\/127\.0\.0\.1:\d+ is NOT verified/);
    await insecure.stop();
  } finally {
    await stopProcess(tlsBroker.proc);
  }
});
