// Scenario R1's client process: either the engine over a RemoteGxSource (the GX reached over
// MQTT), or a bare MQTT.js subscriber, against the bench broker where gx-bridge plays the GX.
// Commands:
// - full {url, portal, mode}: a fresh connection; the time from the full keep-alive going out to
//   every value being in the cache ('scanned' of the engine), or, bare, to the subscriber having
//   received the republish up to its full_publish_completed. Then it disconnects.
// - watch {url, portal, mode}: a connection that stays; every update (remote: engine 'update'
//   event; bare: message) of a double in timestamp mode gives a latency. latencies / unwatch.
import * as mqtt from 'mqtt';
import { GxEngine, ItemUpdate } from '../src/bridge/engine';
import { RemoteGxSource } from '../src/remote';
import { serve } from './rpc';

type Mode = 'remote' | 'bare';
interface Args { url: string; portal: string; mode: Mode }

export interface FullResult {
  ms: number;
  items: number;
}

const now = () => performance.timeOrigin + performance.now();

async function fullRemote(a: Args): Promise<FullResult> {
  const source = new RemoteGxSource({ gx: a.url, portalId: a.portal });
  const engine = new GxEngine(source, { portalId: a.portal, uniqueIdFile: '' });
  let sentAt = 0;
  source.on('log', (level: string, text: string) => {
    if (level === 'debug' && text.endsWith('asking for a full republish') && !sentAt) sentAt = performance.now();
  });
  const scanned = new Promise<number>((resolve) => engine.once('scanned', () => resolve(performance.now())));
  engine.start();
  const t1 = await scanned;
  const items = engine.cache.itemCount;
  await engine.close();
  return { ms: t1 - sentAt, items };
}

async function fullBare(a: Args): Promise<FullResult> {
  const client = mqtt.connect(a.url, { clientId: `bench-bare-${process.pid}-${Math.random().toString(16).slice(2, 8)}`, clean: true, reconnectPeriod: 0 });
  const echo = Math.random().toString(16).slice(2, 18);
  const prefix = `N/${a.portal}/`;
  const marker = `${prefix}full_publish_completed`;
  let items = 0;
  let sentAt = 0;
  const done = new Promise<number>((resolve, reject) => {
    client.on('error', reject);
    client.on('message', (topic: string, payload: Buffer) => {
      if (topic === marker) {
        if (payload.includes(echo)) resolve(performance.now());
      } else if (topic.indexOf('/', prefix.length) > 0) {
        items++;
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => client.subscribe(`N/${a.portal}/#`, { qos: 0 }, (err) => (err ? reject(err) : resolve())));
    client.once('error', reject);
  });
  sentAt = performance.now();
  client.publish(`R/${a.portal}/keepalive`, `{"keepalive-options":[{"full-publish-completed-echo":"${echo}"}]}`);
  const t1 = await done;
  await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  return { ms: t1 - sentAt, items };
}

/** latency of one timestamped double: receive time − the value (the simulator's send time) */
const latencies: number[] = [];
let watcher: { close(): Promise<void> } | undefined;

function record(value: number): void {
  const ms = now() - value;
  if (ms >= 0 && ms < 60000) latencies.push(ms); // a timestamp, not some other double
}

async function watchRemote(a: Args): Promise<void> {
  const source = new RemoteGxSource({ gx: a.url, portalId: a.portal });
  const engine = new GxEngine(source, { portalId: a.portal, uniqueIdFile: '' });
  const scanned = new Promise<void>((resolve) => engine.once('scanned', () => resolve()));
  engine.on('update', (u: ItemUpdate) => {
    if (u.cause === 'change' && u.item.sig === 'd') record(u.item.value as number);
  });
  engine.start();
  await scanned;
  watcher = { close: () => engine.close() };
}

async function watchBare(a: Args): Promise<void> {
  const client = mqtt.connect(a.url, { clientId: `bench-bare-w-${process.pid}`, clean: true });
  client.on('message', (_t: string, payload: Buffer) => {
    // {"value":1754.…} – a plain double; the bare client parses it as any client would
    const v = (JSON.parse(payload.toString()) as { value?: unknown }).value;
    if (typeof v === 'number') record(v);
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => client.subscribe(`N/${a.portal}/#`, { qos: 0 }, (err) => (err ? reject(err) : resolve())));
    client.once('error', reject);
  });
  watcher = { close: () => new Promise<void>((resolve) => client.end(false, {}, () => resolve())) };
}

serve({
  full: (a: Args) => (a.mode === 'remote' ? fullRemote(a) : fullBare(a)),
  async watch(a: Args) {
    if (watcher) throw new Error('already watching');
    latencies.length = 0;
    await (a.mode === 'remote' ? watchRemote(a) : watchBare(a));
    return true;
  },
  latencies() {
    const out = [...latencies];
    latencies.length = 0;
    return out;
  },
  async unwatch() {
    await watcher?.close();
    watcher = undefined;
    return true;
  },
});
