// Legacy (dbus-mqtt) mode, odd keep-alive payloads and a broker that goes away, with real
// mosquitto and gx-bridge processes (spec §7.2, §10, §12).
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Variant } from 'dbus-next';
import { GxSimulator } from '../../src/sim';
import { startPrivateBus, PrivateBus } from '../support/dbus-daemon';
import { publish, startMosquitto, Broker, Subscriber } from '../support/mosquitto';
import { startBridge } from '../support/bridge-process';
import { sleep, waitUntil } from '../support/engine-fixture';

let bus: PrivateBus;
let broker: Broker;
let sim: GxSimulator;

const batteryDef = () => ({
  name: 'com.victronenergy.battery.ttyO0',
  paths: { '/DeviceInstance': new Variant('u', 256), '/Soc': new Variant('d', 80), '/Dc/0/Voltage': new Variant('d', 52.1) },
});

before(async () => {
  bus = await startPrivateBus();
  broker = await startMosquitto();
  sim = new GxSimulator({ address: bus.address });
  await sim.addService(batteryDef());
  await sim.addService({ name: 'com.victronenergy.grid.x', paths: { '/DeviceInstance': new Variant('i', 30), '/Ac/Power': new Variant('d', 100) } });
});

after(async () => {
  await sim?.stop();
  await broker?.stop();
  await bus?.stop();
});

/** What a client connecting now gets as retained messages under N/<portal>/#. */
async function retained(portal: string): Promise<Map<string, string>> {
  const s = await new Subscriber(broker.port, [`N/${portal}/#`], true).start();
  await s.stop();
  return new Map(s.messages.map((m) => [m.topic, m.payload]));
}

test('legacy mode: retained notifications, no republish while alive, empty retained payloads on service loss', async () => {
  const P = 'legacy000001';
  const b = await startBridge(['--dbus', bus.address, '--broker', broker.url, '--portal-id', P, '--mode', 'legacy']);
  const sub = await new Subscriber(broker.port, [`N/${P}/#`]).start();
  try {
    let r = await retained(P);
    assert.equal(r.get(`N/${P}/keepalive`), '{"value": 1}', 'retained marker on connect (K-P7)');
    assert.equal(r.get(`N/${P}/system/0/Serial`), `{"value": "${P}"}`, 'serial = own portal ID (N8)');
    assert.equal(r.size, 2, 'nothing else before a keep-alive');
    await publish(broker.port, `R/${P}/keepalive`, '');
    await waitUntil(() => sub.messages.length >= 5);
    const topics = sub.messages.map((m) => m.topic);
    assert.deepEqual(topics, [...topics].sort(), 'published sorted by topic');
    r = await retained(P);
    assert.equal(r.get(`N/${P}/battery/256/Soc`), '{"value": 80.0}');
    assert.equal(r.size, 2 + 5);
    sub.clear();
    await publish(broker.port, `R/${P}/keepalive`, '');
    await sleep(300);
    assert.deepEqual(sub.messages, [], 'a second keep-alive republishes nothing (K-P2)');
    await publish(broker.port, `R/${P}/grid/30/Ac/Power`, '');
    await waitUntil(() => sub.messages.length === 1);
    sim.service('com.victronenergy.grid.x')!.setValue('/Ac/Power', 120, { signal: false });
    await publish(broker.port, `R/${P}/grid/30/Ac/Power`, '');
    await waitUntil(() => sub.messages.length === 2);
    assert.equal((await retained(P)).get(`N/${P}/grid/30/Ac/Power`), '{"value": 100.0}', 'read replies are not retained (R8)');
    sim.service('com.victronenergy.grid.x')!.setValue('/Ac/Power', 150);
    await waitUntil(() => sub.messages.some((m) => m.topic === `N/${P}/grid/30/Ac/Power`));
    assert.equal((await retained(P)).get(`N/${P}/grid/30/Ac/Power`), '{"value": 150.0}', 'changes are retained');
    await sim.removeService('com.victronenergy.grid.x');
    await waitUntil(() => sub.messages.some((m) => m.topic === `N/${P}/grid/30/Ac/Power` && m.payload === ''));
    await sleep(100);
    r = await retained(P);
    assert.ok(![...r.keys()].some((t) => t.includes('/grid/')), 'empty retained payloads cleared the grid topics (S2)');
  } finally {
    await sub.stop();
    await b.stop();
    if (!sim.service('com.victronenergy.grid.x')) await sim.addService({ name: 'com.victronenergy.grid.x', paths: { '/DeviceInstance': new Variant('i', 30), '/Ac/Power': new Variant('d', 100) } });
  }
});

test('legacy mode: selective keep-alive filters, and expiry unpublishes what no filter covers any more (K-P3, K-P6)', async () => {
  const P = 'legacy000002';
  const b = await startBridge(['--dbus', bus.address, '--broker', broker.url, '--portal-id', P, '--mode', 'legacy', '--keepalive-seconds', '1']);
  const sub = await new Subscriber(broker.port, [`N/${P}/#`]).start();
  try {
    await publish(broker.port, `R/${P}/keepalive`, '["battery/+/Soc"]');
    await waitUntil(() => sub.messages.some((m) => m.topic === `N/${P}/battery/256/Soc`));
    await sleep(200);
    assert.deepEqual(sub.messages.map((m) => m.topic), [`N/${P}/battery/256/Soc`]);
    await publish(broker.port, `R/${P}/keepalive`, '{[],,}');
    await b.waitOutput(/keep-alive payload is not JSON, not refreshed/);
    await waitUntil(() => sub.messages.some((m) => m.topic === `N/${P}/battery/256/Soc` && m.payload === ''), 4000, 'unpublish on expiry');
    const r = await retained(P);
    assert.ok(!r.has(`N/${P}/battery/256/Soc`));
    assert.ok(r.has(`N/${P}/system/0/Serial`), 'the serial is never unpublished');
  } finally {
    await sub.stop();
    await b.stop();
  }
});

test('odd keep-alive payloads still make the system alive with a full republish (§10)', async () => {
  const P = 'oddpayload01';
  const b = await startBridge(['--dbus', bus.address, '--broker', broker.url, '--portal-id', P]);
  const sub = await new Subscriber(broker.port, [`N/${P}/full_publish_completed`]).start();
  try {
    // (up to the request size limit: 65536 bytes)
    for (const payload of ['not json', 'null', '[]', '{"keepalive-options": 5}', 'x'.repeat(65536)]) {
      sub.clear();
      await sleep(1050); // the rate limit window
      await publish(broker.port, `R/${P}/keepalive`, payload);
      await sub.waitFor(() => true, 5000);
    }
    for (const bad of [`R/${P}`, `R/${P}/battery`, `R/${P}/battery/256`, `W/${P}/battery/x/Soc`, `R/${P}/battery/256/Bad-Path`]) {
      await publish(broker.port, bad, '{"value":1}');
    }
    await b.waitOutput(`ignored R/${P}/battery/256: expected <type>/<instance>/<path>`);
    await b.waitOutput(/Bad-Path' is not a valid D-Bus object path/);
    await b.waitOutput(/W\/oddpayload01\/battery\/x\/Soc refused: can't find a D-Bus service for battery\/x/);
    // still answering after all that
    sub.clear();
    await sleep(1050);
    await publish(broker.port, `R/${P}/keepalive`, '');
    await sub.waitFor(() => true, 5000);
  } finally {
    await sub.stop();
    await b.stop();
  }
});

test('the broker goes away and comes back: reconnect, re-subscribe, retained serial again, keep-alive complete', async () => {
  const P = 'brokerfault1';
  await sim.addService({ name: 'com.victronenergy.system', paths: { '/Serial': new Variant('s', P), '/Dc/Battery/Soc': new Variant('d', 80) } });
  const b = await startBridge(['--dbus', bus.address, '--broker', broker.url]);
  try {
    assert.match(b.output(), /portal brokerfault1/);
    await broker.restart();
    await b.waitOutput(/connection lost/, 10000);
    await waitUntil(() => (b.output().match(/connected to MQTT broker/g) ?? []).length >= 2, 15000, 'reconnect');
    await sleep(300);
    const r = await retained(P);
    assert.equal(r.get(`N/${P}/system/0/Serial`), `{"value":"${P}"}`, 'the retained serial is there again on the new broker');
    const sub = await new Subscriber(broker.port, [`N/${P}/#`]).start();
    await publish(broker.port, `R/${P}/keepalive`, '');
    await sub.waitFor((m) => m.topic === `N/${P}/full_publish_completed`);
    assert.ok(sub.messages.some((m) => m.topic === `N/${P}/battery/256/Soc`));
    assert.ok(sub.messages.some((m) => m.topic === `N/${P}/system/0/Dc/Battery/Soc`));
    await sub.stop();
  } finally {
    await b.stop();
    await sim.removeService('com.victronenergy.system');
  }
});
