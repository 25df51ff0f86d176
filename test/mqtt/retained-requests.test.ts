// Retained R/W requests are never carried out (W8), and what that takes per MQTT version: on
// MQTT 5 gx-bridge subscribes with retain-as-published, so a retained W published while it is
// connected keeps its flag and is ignored; on 3.1.1 the broker clears the flag for live
// subscribers, so such a W is carried out once, and ignored when it comes again as retained
// on (re)subscribing. By default gx-bridge speaks 5 and falls back to 3.1.1 for a broker that
// refuses 5 (spec W8, §10, §12; issue 14 item 12).
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as net from 'net';
import { pathToFileURL } from 'url';
import * as mqtt from 'mqtt';
import { Variant } from 'dbus-next';
import { GxSimulator } from '../../src/sim';
import { startPrivateBus, PrivateBus } from '../support/dbus-daemon';
import { publish, startMosquitto, Broker } from '../support/mosquitto';
import { startBridge } from '../support/bridge-process';
import { sleep, waitUntil } from '../support/engine-fixture';

let bus: PrivateBus;
let broker: Broker;
let sim: GxSimulator;
const VEBUS = 'com.victronenergy.vebus.ttyO1';

before(async () => {
  bus = await startPrivateBus();
  broker = await startMosquitto();
  sim = new GxSimulator({ address: bus.address });
  await sim.addService({ name: VEBUS, paths: { '/DeviceInstance': new Variant('u', 257), '/Mode': new Variant('i', 3) } });
});

after(async () => {
  await sim?.stop();
  await broker?.stop();
  await bus?.stop();
});

const mode = () => sim.service(VEBUS)!.getValue('/Mode')!.value as number;

async function clearRetained(topic: string): Promise<void> {
  await publish(broker.port, topic, '', { retain: true });
}

test('MQTT 5 (the default): a retained W published while connected is ignored and logged; a live W is carried out', async () => {
  const P = 'retainv5test';
  const b = await startBridge(['--dbus', bus.address, '--broker', broker.url, '--portal-id', P]);
  try {
    assert.match(b.output(), /connected to MQTT broker .* \(MQTT 5\)/);
    sim.service(VEBUS)!.setValue('/Mode', 3, { signal: false });
    await publish(broker.port, `W/${P}/vebus/257/Mode`, '{"value": 4}', { retain: true });
    await b.waitOutput(`ignored retained request on W/${P}/vebus/257/Mode`);
    await sleep(200);
    assert.equal(mode(), 3, 'not carried out');
    await publish(broker.port, `W/${P}/vebus/257/Mode`, '{"value": 1}');
    await waitUntil(() => mode() === 1, 5000, 'the live write');
  } finally {
    await b.stop();
    await clearRetained(`W/${P}/vebus/257/Mode`);
  }
});

test('MQTT 3.1.1: a retained W published while connected is carried out once (the broker clears the flag), never again on resubscribing', async () => {
  const P = 'retainv4test';
  const args = ['--dbus', bus.address, '--broker', broker.url, '--portal-id', P, '--mqtt-version', '3.1.1'];
  const b = await startBridge(args);
  try {
    assert.match(b.output(), /\(MQTT 3\.1\.1\)/);
    sim.service(VEBUS)!.setValue('/Mode', 3, { signal: false });
    await publish(broker.port, `W/${P}/vebus/257/Mode`, '{"value": 4}', { retain: true });
    await waitUntil(() => mode() === 4, 5000, 'carried out once, as it passes');
  } finally {
    await b.stop();
  }
  // the retained W stays in the broker; a bridge subscribing now gets it flagged retained
  sim.service(VEBUS)!.setValue('/Mode', 3, { signal: false });
  const again = await startBridge(args);
  try {
    await again.waitOutput(`ignored retained request on W/${P}/vebus/257/Mode`);
    await sleep(200);
    assert.equal(mode(), 3, 'not carried out again');
  } finally {
    await again.stop();
    await clearRetained(`W/${P}/vebus/257/Mode`);
  }
});

// aedes (the demo's broker) speaks MQTT 3.1.1 only and refuses 5 in its CONNACK
const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<unknown>;

test('a broker that refuses MQTT 5: gx-bridge says so, speaks 3.1.1 and serves', async () => {
  const mod = await importEsm(pathToFileURL(require.resolve('aedes')).href) as typeof import('aedes');
  const aedes = await mod.Aedes.createBroker();
  const server = net.createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const P = 'fallback3111';
  let b: Awaited<ReturnType<typeof startBridge>> | undefined;
  const c = mqtt.connect(url, { protocolVersion: 4 });
  try {
    b = await startBridge(['--dbus', bus.address, '--broker', url, '--portal-id', P]);
    assert.match(b.output(), /refused MQTT 5; using MQTT 3\.1\.1/);
    assert.match(b.output(), /connected to MQTT broker .* \(MQTT 3\.1\.1\)/);
    await new Promise<void>((resolve) => { if (c.connected) resolve(); else c.once('connect', () => resolve()); });
    const got: string[] = [];
    c.on('message', (t) => got.push(t));
    await new Promise<void>((resolve) => c.subscribe(`N/${P}/#`, () => resolve()));
    c.publish(`R/${P}/keepalive`, '');
    await waitUntil(() => got.includes(`N/${P}/full_publish_completed`), 5000, 'a full publish');
    assert.ok(got.includes(`N/${P}/vebus/257/Mode`));
    assert.equal((b.output().match(/refused MQTT 5/g) ?? []).length, 1, 'said once');
  } finally {
    c.end(true);
    await b?.stop();
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    server.close();
  }
});
