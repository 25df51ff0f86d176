// The D-Bus limit: a bare dbus-next client in its own process, doing nothing but what the
// bridge must do at least.
//  - `listen`: adds the ItemsChanged match rule and counts signals and values (and, since the
//    simulator's timestamp mode puts the send time in every value, their latency);
//  - `listen` with `forward`: also the least a bridge must do after that, the D-Bus + MQTT
//    limit of S2's latency: every value of a signal as one hand-encoded QoS 0 PUBLISH
//    (`N/<portal>/synthetic/0<path>`, `{"value":…}`), all of a signal's packets in one socket
//    write to the broker, where the bench's subscriber receives them as it receives the bridge's;
//  - started with `--getitems <address>`: connects, lists the com.victronenergy.* services and
//    calls GetItems on all of them in parallel at once, then reports (cold-start baseline).
import * as dbus from 'dbus-next';
import * as net from 'net';
import { encodeConnect, encodePublish } from './mqtt-wire';
import { cpuSeconds, memory } from './proc-stats';
import { emitEvent, serve } from './rpc';
import { LatencyRecorder } from './stats';

const { Message } = dbus;
type Msg = InstanceType<typeof Message>;

let bus: dbus.MessageBus | undefined;
let signals = 0;
let values = 0;
let firstAt = 0;
let lastAt = 0;
let cpu0 = 0;
let lat = new LatencyRecorder();
/** off in the soak, where keeping every latency would itself grow the baseline's memory */
let recordLatency = true;
/** the broker connection and topic prefix when forwarding */
let forward: { socket: net.Socket; prefix: string } | undefined;

function connect(address: string): Promise<dbus.MessageBus> {
  return new Promise((resolve, reject) => {
    const b = dbus.sessionBus({ busAddress: address });
    b.once('connect', () => resolve(b));
    b.once('error', reject);
  });
}

function callBus(b: dbus.MessageBus, member: string, signature?: string, body?: unknown[]): Promise<Msg> {
  return b.call(new Message({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member, signature, body })) as Promise<Msg>;
}

function onMessage(msg: Msg): void {
  if (msg.type !== 4 || msg.member !== 'ItemsChanged') return;
  const now = performance.timeOrigin + performance.now();
  if (signals === 0) firstAt = now;
  lastAt = now;
  signals++;
  const dict = msg.body[0] as Record<string, Record<string, { signature: string; value: unknown }>>;
  const packets: Buffer[] = [];
  for (const p in dict) {
    values++;
    const v = dict[p].Value;
    if (recordLatency && v && v.signature === 'd') lat.add(now - (v.value as number));
    if (forward && v) packets.push(encodePublish(forward.prefix + p, `{"value":${String(v.value)}}`));
  }
  if (forward && packets.length) forward.socket.write(Buffer.concat(packets));
}

function connectBroker(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    socket.once('error', reject);
    socket.once('data', () => resolve(socket)); // CONNACK
    socket.on('connect', () => socket.write(encodeConnect(`gx-bench-forwarder-${process.pid}`)));
  });
}

export interface ListenStats {
  signals: number;
  values: number;
  firstAt: number;
  lastAt: number;
  /** values per second between the first and the last signal */
  rate: number;
  p50: number;
  p99: number;
  max: number;
  cpuSeconds: number;
}

async function getItemsRun(address: string): Promise<void> {
  const t0 = performance.now();
  const b = await connect(address);
  const names = ((await callBus(b, 'ListNames')).body[0] as string[]).filter((n) => n.startsWith('com.victronenergy.'));
  const t1 = performance.now();
  const replies = await Promise.all(names.map((n) => b.call(new Message({
    destination: n, path: '/', interface: 'com.victronenergy.BusItem', member: 'GetItems',
  })) as Promise<Msg>));
  const t2 = performance.now();
  let items = 0;
  for (const r of replies) items += Object.keys(r.body[0] as object).length;
  bus = b;
  emitEvent('getitems', {
    services: names.length, items,
    /** from process start (performance.timeOrigin) to all replies */
    sinceProcessStartMs: t2,
    connectMs: t1 - t0,
    getItemsMs: t2 - t1,
    rssBytes: memory(process.pid).rssBytes,
    replies: replies.length,
  });
}

serve({
  async listen(a: { address: string; latency?: boolean; forward?: { port: number; portal: string } }) {
    recordLatency = a.latency !== false;
    if (a.forward) forward = { socket: await connectBroker(a.forward.port), prefix: `N/${a.forward.portal}/synthetic/0` };
    bus = await connect(a.address);
    await callBus(bus, 'AddMatch', 's', [`type='signal',interface='com.victronenergy.BusItem',member='ItemsChanged'`]);
    bus.on('message', onMessage);
    return true;
  },
  reset() {
    signals = 0;
    values = 0;
    firstAt = lastAt = 0;
    lat = new LatencyRecorder();
    cpu0 = cpuSeconds(process.pid);
    return true;
  },
  stats(): ListenStats {
    const secs = (lastAt - firstAt) / 1000;
    return {
      signals, values, firstAt, lastAt, rate: secs > 0 ? values / secs : 0,
      p50: lat.percentile(50), p99: lat.percentile(99), max: lat.max(), cpuSeconds: cpuSeconds(process.pid) - cpu0,
    };
  },
  memory() {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) gc();
    return { ...memory(process.pid), heapBytes: process.memoryUsage().heapUsed };
  },
});

const gi = process.argv.indexOf('--getitems');
if (gi >= 0) {
  getItemsRun(process.argv[gi + 1]).catch((e: Error) => {
    emitEvent('error', e.message);
  });
}
