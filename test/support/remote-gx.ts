// A GX as the remote source meets it: the simulator on a private bus, our own gx-bridge on it
// as the GX's dbus-flashmq, publishing on a real mosquitto (the GX's broker, "A"). And the
// engine over a RemoteGxSource on that broker, capturing what it publishes and its updates.
import * as path from 'path';
import { EngineOptions, GxEngine, ItemUpdate, OutMessage, WriteResult } from '../../src/bridge/engine';
import { RemoteGxSource, RemoteSourceOptions } from '../../src/remote';
import { GxSimulator, loadFile } from '../../src/sim';
import { startBridge, BridgeProcess, DIST } from './bridge-process';
import { startPrivateBus, PrivateBus } from './dbus-daemon';
import { startMosquitto, Broker } from './mosquitto';

/**
 * A broker for a GX that, like dbus-flashmq, never answers writes on S/: its bridge logs in as
 * `gx` and may not publish there (mosquitto drops it), whatever our gx-bridge can do. Everyone
 * else is anonymous with full access. Pass `bridgeArgs` to startGxBehindBroker.
 */
export async function startNoReplyBroker(): Promise<{ broker: Broker; bridgeArgs: string[] }> {
  const broker = await startMosquitto({
    users: [{ name: 'gx', password: 'gx-secret', acl: ['topic readwrite N/#', 'topic read R/#', 'topic read W/#'] }],
    anonymous: ['topic readwrite #'],
  });
  return { broker, bridgeArgs: ['--username', 'gx', '--password', 'gx-secret'] };
}
import { waitUntil } from './engine-fixture';

export const SCENARIOS = path.join(DIST, '..', 'test', 'fixtures', 'scenarios');

export interface GxBehindBroker {
  bus: PrivateBus;
  sim: GxSimulator;
  broker: Broker;
  bridge: BridgeProcess;
  portal: string;
  /** starts gx-bridge on the broker again (after stopBridge) */
  restartBridge(): Promise<void>;
  stopBridge(): Promise<void>;
  close(): Promise<void>;
}

/** The simulator with the given scenario files (the first file's service wins a name) behind gx-bridge on a fresh mosquitto. */
export async function startGxBehindBroker(portal: string, scenarios: string[], opts: { broker?: Broker; bridgeArgs?: string[] } = {}): Promise<GxBehindBroker> {
  const bus = await startPrivateBus();
  const broker = opts.broker ?? await startMosquitto();
  const sim = new GxSimulator({ address: bus.address });
  for (const file of scenarios) {
    // a service already added by an earlier file wins
    for (const def of loadFile(path.join(SCENARIOS, file))) if (!sim.service(def.name)) await sim.addService(def);
  }
  const args = () => ['--dbus', bus.address, '--broker', broker.url, '--portal-id', portal, ...(opts.bridgeArgs ?? [])];
  let bridge = await startBridge(args());
  const gx: GxBehindBroker = {
    bus, sim, broker, portal,
    get bridge() { return bridge; },
    async restartBridge() { bridge = await startBridge(args()); },
    async stopBridge() { await bridge.stop(); },
    async close() {
      await bridge.stop();
      await sim.stop();
      if (!opts.broker) await broker.stop();
      await bus.stop();
    },
  } as GxBehindBroker;
  return gx;
}

export interface RemoteEngine {
  source: RemoteGxSource;
  engine: GxEngine;
  published: OutMessage[];
  updates: ItemUpdate[];
  writes: WriteResult[];
  logs: string[];
  staleEvents: boolean[];
  /** resolves when the engine has announced 'scanned' n times in all */
  waitScanned(n?: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** An engine over a remote source on `url`; resolves once the first full republish is in. */
export async function startRemoteEngine(url: string, portal: string, opts: Partial<RemoteSourceOptions> = {},
  engineOpts: EngineOptions = {}): Promise<RemoteEngine> {
  const source = new RemoteGxSource({ gx: url, portalId: portal, ...opts, timing: { reconnectMinMs: 100, reconnectMaxMs: 500, ...opts.timing } });
  const logs: string[] = [];
  const engine = new GxEngine(source, {
    portalId: portal,
    uniqueIdFile: '',
    logger: {
      debug: (m) => logs.push('debug ' + m), info: (m) => logs.push('info ' + m),
      warn: (m) => logs.push('warn ' + m), error: (m) => logs.push('error ' + m),
    },
    ...engineOpts,
  });
  const published: OutMessage[] = [];
  const updates: ItemUpdate[] = [];
  const writes: WriteResult[] = [];
  const staleEvents: boolean[] = [];
  let scans = 0;
  engine.on('publish', (m: OutMessage) => published.push(m));
  engine.on('update', (u: ItemUpdate) => updates.push(u));
  engine.on('write-result', (w: WriteResult) => writes.push(w));
  engine.on('scanned', () => scans++);
  engine.on('stale', (s: boolean) => staleEvents.push(s));
  engine.start();
  const r: RemoteEngine = {
    source, engine, published, updates, writes, logs, staleEvents,
    waitScanned: (n = 1, timeoutMs = 15000) => waitUntil(() => scans >= n, timeoutMs, `scanned #${n}`),
    close: () => engine.close(),
  };
  await r.waitScanned(1);
  return r;
}

/** Every item an engine would publish: topic → payload (blocked paths are left out, N6). */
export function itemPayloads(engine: GxEngine): Map<string, string> {
  const out = new Map<string, string>();
  for (const [service, item] of engine.items()) out.set(service.topicOf(item), service.payloadOf(item));
  return out;
}
