// Floods: 10 000 R requests per second and keep-alive storms through a real broker into
// gx-bridge. D-Bus calls in flight stay bounded, full republishes stay at 3 per second, memory
// stays flat and other clients are still served (venus#1276, venus#1583).
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as mqtt from 'mqtt';
import { Variant } from 'dbus-next';
import { GxSimulator } from '../../src/sim';
import { startPrivateBus, PrivateBus } from '../support/dbus-daemon';
import { publish, startMosquitto, Broker, Subscriber } from '../support/mosquitto';
import { startBridge, BridgeProcess } from '../support/bridge-process';
import { sleep, waitUntil, startEngineFixture } from '../support/engine-fixture';
import { residentBytes } from '../support/processes';

const P = 'floodtest001';
let bus: PrivateBus;
let broker: Broker;
let sim: GxSimulator;
let bridge: BridgeProcess;

before(async () => {
  bus = await startPrivateBus();
  broker = await startMosquitto();
  sim = new GxSimulator({ address: bus.address });
  const paths: Record<string, Variant> = { '/DeviceInstance': new Variant('u', 256) };
  for (let i = 0; i < 200; i++) paths[`/P${i}`] = new Variant('d', i);
  await sim.addService({ name: 'com.victronenergy.battery.ttyO0', paths });
  bridge = await startBridge(['--dbus', bus.address, '--broker', broker.url, '--portal-id', P]);
});

after(async () => {
  await bridge?.stop();
  await sim?.stop();
  await broker?.stop();
  await bus?.stop();
});

async function flooder(): Promise<mqtt.MqttClient> {
  const c = mqtt.connect(broker.url, { clientId: 'flooder' });
  await new Promise<void>((resolve, reject) => { c.once('connect', () => resolve()); c.once('error', reject); });
  return c;
}

test('10 000 R requests in a second: bounded D-Bus calls, flat memory, another client still answered', async () => {
  const svc = sim.service('com.victronenergy.battery.ttyO0')!;
  const other = await new Subscriber(broker.port, [`N/${P}/battery/256/P199`]).start();
  const c = await flooder();
  const pid = bridge.started.proc.pid!;
  try {
    const rssBefore = residentBytes(pid);
    const callsBefore = svc.calls.GetValue ?? 0;
    const t0 = Date.now();
    for (let i = 0; i < 10000; i++) {
      c.publish(`R/${P}/battery/256/P${i % 100}`, '');
      if (i % 1000 === 999) await sleep(Math.max(0, (t0 + (i + 1) / 10) - Date.now()));
    }
    // meanwhile somebody else asks for something
    await publish(broker.port, `R/${P}/battery/256/P199`, '');
    await other.waitFor(() => true, 10000);
    await sleep(1500);
    const calls = (svc.calls.GetValue ?? 0) - callsBefore;
    assert.ok(calls > 0 && calls < 10000, `identical waiting reads share one D-Bus call (${calls} GetValue calls for 10 000 requests)`);
    const grown = residentBytes(pid) - rssBefore;
    assert.ok(grown < 64 * 1024 * 1024, `resident memory grew by ${Math.round(grown / 1024)} kB`);
  } finally {
    c.end(true);
    await other.stop();
  }
});

test('a keep-alive storm: at most 3 full republishes per second, the bridge stays responsive', async () => {
  const sub = await new Subscriber(broker.port, [`N/${P}/full_publish_completed`, `N/${P}/battery/256/P5`]).start();
  const c = await flooder();
  try {
    const t0 = Date.now();
    for (let i = 0; i < 1000; i++) c.publish(`R/${P}/keepalive`, '');
    await new Promise<void>((r) => c.publish(`R/${P}/keepalive`, '', () => r()));
    const spent = (Date.now() - t0) / 1000;
    await sleep(1200);
    const completions = sub.messages.filter((m) => m.topic.endsWith('full_publish_completed')).length;
    assert.ok(completions >= 1 && completions <= 3 * Math.ceil(spent + 1.2), `${completions} republishes in ${spent.toFixed(2)} s`);
    sub.clear();
    await publish(broker.port, `R/${P}/battery/256/P5`, '');
    await sub.waitFor((m) => m.topic.endsWith('/P5'));
  } finally {
    c.end(true);
    await sub.stop();
  }
});

test('in the engine: never more than the configured D-Bus reads in flight, a full queue refuses with a reason', async () => {
  const fx = await startEngineFixture({
    engine: { maxReadsInFlight: 4, maxQueuedReads: 50 },
    beforeStart: async (s) => {
      const paths: Record<string, Variant> = { '/DeviceInstance': new Variant('u', 1) };
      for (let i = 0; i < 500; i++) paths[`/X${i}`] = new Variant('i', i);
      await s.addService({ name: 'com.victronenergy.tank.flood', paths });
    },
  });
  try {
    const limiter = (fx.engine as any).reads;
    let maxActive = 0;
    const results = await Promise.allSettled(Array.from({ length: 500 }, (_, i) => {
      const p = fx.engine.read({ type: 'tank', instance: '1', path: `/X${i}` });
      maxActive = Math.max(maxActive, limiter.active);
      return p;
    }));
    assert.ok(maxActive <= 4, `at most 4 in flight (saw ${maxActive})`);
    const refused = results.filter((r) => r.status === 'rejected');
    assert.ok(refused.length >= 400, `${refused.length} refused`);
    assert.match(String((refused[0] as PromiseRejectedResult).reason.message), /too many requests waiting \(50\)/);
    assert.equal((await fx.engine.read({ type: 'tank', instance: '1', path: '/X1' }))[0].value, 1, 'answers again afterwards');
  } finally {
    await fx.close();
  }
});

test('while the broker is away nothing piles up: notifications are dropped and counted, not queued', async () => {
  const { GxGateway } = await import('../../src/gateway');
  const b2 = await startMosquitto();
  const gw = new GxGateway({ dbus: { address: bus.address }, engine: { portalId: 'awaytest0001', uniqueIdFile: '' },
    broker: { url: b2.url, reconnectPeriodMs: 200 } });
  gw.start();
  try {
    await waitUntil(() => gw.link!.state === 'connected' && gw.engine.initialScanDone, 5000);
    gw.engine.keepaliveRequest('');
    await b2.stop();
    await waitUntil(() => gw.link!.state !== 'connected', 5000);
    const droppedBefore = gw.link!.dropped;
    const svc = sim.service('com.victronenergy.battery.ttyO0')!;
    for (let i = 0; i < 50; i++) {
      gw.engine.keepaliveRequest('{"keepalive-options":["suppress-republish"]}');
      svc.setValue('/P1', 1000 + i);
      await sleep(5);
    }
    await waitUntil(() => gw.link!.dropped - droppedBefore >= 50, 5000, 'changes dropped while away');
    const client = (gw.link as any).client as mqtt.MqttClient;
    assert.equal((client as any).queue.length, 0, 'MQTT.js queued nothing for later');
  } finally {
    await gw.close();
    await b2.stop();
  }
});
