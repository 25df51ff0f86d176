// The broker link's connections: mqtt:// and mqtts:// are built without MQTT.js's connect()
// (which loads every transport), ws:// and credentials in the URL still go through it. And what
// a D-Bus bridge on mqtt:// loads: no websockets, SOCKS, remote source, simulator or catalogue.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFile } from 'child_process';
import * as path from 'path';
import * as mqtt from 'mqtt';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { BrokerLink } from '../../src/mqtt/broker-link';
import { loadFile } from '../../src/sim';
import { startAedes } from '../support/aedes-broker';
import { DIST } from '../support/bridge-process';
import { startPrivateBus } from '../support/dbus-daemon';
import { PORTAL, startEngineFixture, waitUntil } from '../support/engine-fixture';
import { startMosquitto } from '../support/mosquitto';
import { freePort } from '../support/processes';

const BASIC = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'scenarios', 'basic.json');

/** Sends a keep-alive through `client` and collects what comes back up to full_publish_completed. */
async function fullPublish(client: mqtt.MqttClient): Promise<string[]> {
  const topics: string[] = [];
  const done = new Promise<void>((resolve) => {
    client.on('message', (topic: string) => {
      topics.push(topic);
      if (topic === `N/${PORTAL}/full_publish_completed`) resolve();
    });
  });
  await client.subscribeAsync(`N/${PORTAL}/#`);
  await client.publishAsync(`R/${PORTAL}/keepalive`, '');
  await done;
  return topics;
}

test('over ws:// (MQTT over websockets) the broker link serves keep-alives as over mqtt://', async () => {
  const aedes = await startAedes();
  const wsPort = await freePort();
  const wss = new WebSocketServer({ host: '127.0.0.1', port: wsPort });
  wss.on('connection', (socket) => aedes.aedes.handle(createWebSocketStream(socket) as never));
  const fx = await startEngineFixture({ beforeStart: (sim) => sim.addServices(loadFile(BASIC)).then(() => undefined) });
  const link = new BrokerLink(fx.engine, { url: `ws://127.0.0.1:${wsPort}` });
  const client = mqtt.connect(aedes.url, { reconnectPeriod: 0 });
  const connected = new Promise<void>((resolve) => client.once('connect', () => resolve()));
  try {
    const ready = new Promise<void>((resolve) => link.once('ready', () => resolve()));
    link.start();
    await ready;
    await connected;
    const topics = await fullPublish(client);
    assert.ok(topics.filter((t) => t.split('/').length > 4).length >= 10, `items published over ws://: ${topics.length} messages`);
  } finally {
    await client.endAsync();
    await link.close();
    await fx.close();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await aedes.stop();
  }
});

test('credentials in the broker URL (mqtt://user:password@host) log in as MQTT.js takes them', async () => {
  const broker = await startMosquitto({ users: [{ name: 'bridge', password: 's3cret', acl: ['topic readwrite #'] }] });
  const fx = await startEngineFixture();
  const link = new BrokerLink(fx.engine, { url: `mqtt://bridge:s3cret@127.0.0.1:${broker.port}` });
  const refused = new BrokerLink(fx.engine, { url: `mqtt://bridge:wrong@127.0.0.1:${broker.port}`, reconnectPeriodMs: 200 });
  try {
    const ready = new Promise<void>((resolve) => link.once('ready', () => resolve()));
    link.start();
    await ready;
    assert.equal(link.state, 'connected');
    refused.start();
    await waitUntil(() => refused.problem !== undefined, 5000, 'the wrong password refused');
    assert.notEqual(refused.state, 'connected');
  } finally {
    await refused.close();
    await link.close();
    await fx.close();
    await broker.stop();
  }
});

test('a D-Bus bridge on mqtt:// loads no websockets, SOCKS, remote source, simulator or catalogue (memory on a GX)', async () => {
  const bus = await startPrivateBus();
  const broker = await startMosquitto();
  try {
    // a fresh process: what building and connecting a gateway loads, from its require cache
    const script = `
      const { GxGateway } = require(${JSON.stringify(path.join(DIST, 'src', 'gateway.js'))});
      const gw = new GxGateway({ dbus: { address: ${JSON.stringify(bus.address)} }, engine: { portalId: 'p1', uniqueIdFile: '' },
        broker: { url: ${JSON.stringify(broker.url)} } });
      gw.link.once('ready', () => {
        process.stdout.write(JSON.stringify(Object.keys(require.cache)));
        gw.close().then(() => process.exit(0));
      });
      gw.start();
      setTimeout(() => { process.stderr.write('not ready'); process.exit(1); }, 10000).unref();`;
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['-e', script], { timeout: 20000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(stdout)));
    });
    const loaded: string[] = JSON.parse(out);
    assert.ok(loaded.some((f) => f.includes(`${path.sep}mqtt${path.sep}`)), 'MQTT.js is loaded');
    for (const what of ['node_modules/ws/', 'node_modules/socks/', 'dist/src/remote/', 'dist/src/sim/', 'dist/src/catalogue/']) {
      const hit = loaded.filter((f) => f.split(path.sep).join('/').includes(what));
      assert.deepEqual(hit, [], `${what} not loaded`);
    }
  } finally {
    await broker.stop();
    await bus.stop();
  }
});
