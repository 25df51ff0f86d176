// A private bus with the simulator on it and our engine over it, capturing what the engine
// publishes (the MQTT face) and its updates (the flow face).
import { EngineOptions, GxEngine, ItemUpdate, OutMessage, WriteResult } from '../../src/bridge/engine';
import { DbusServiceTracker, TrackerOptions } from '../../src/dbus/service-tracker';
import { GxSimulator } from '../../src/sim';
import { startPrivateBus, PrivateBus } from './dbus-daemon';

export const PORTAL = 'c0619ab1f00d';

export interface EngineFixture {
  bus: PrivateBus;
  sim: GxSimulator;
  tracker: DbusServiceTracker;
  engine: GxEngine;
  published: OutMessage[];
  updates: ItemUpdate[];
  writes: WriteResult[];
  logs: string[];
  /** resolves once the engine has a service scanned with this name */
  waitService(name: string, timeoutMs?: number): Promise<void>;
  /** resolves once a published message satisfies pred (looking at past ones too) */
  waitPublished(pred: (m: OutMessage) => boolean, timeoutMs?: number): Promise<OutMessage>;
  close(): Promise<void>;
}

export async function waitUntil(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function startEngineFixture(opts: { engine?: EngineOptions; tracker?: TrackerOptions; tcp?: boolean; bus?: PrivateBus;
  beforeStart?: (sim: GxSimulator) => Promise<void> } = {}): Promise<EngineFixture> {
  const bus = opts.bus ?? await startPrivateBus({ tcp: opts.tcp });
  const sim = new GxSimulator({ address: bus.address });
  if (opts.beforeStart) await opts.beforeStart(sim);
  const tracker = new DbusServiceTracker({ address: bus.address, reconnectMinMs: 100, reconnectMaxMs: 500, ...opts.tracker });
  const logs: string[] = [];
  const engine = new GxEngine(tracker, {
    portalId: PORTAL,
    uniqueIdFile: '',
    logger: {
      debug: (m) => logs.push('debug ' + m), info: (m) => logs.push('info ' + m),
      warn: (m) => logs.push('warn ' + m), error: (m) => logs.push('error ' + m),
    },
    ...opts.engine,
  });
  const published: OutMessage[] = [];
  const updates: ItemUpdate[] = [];
  const writes: WriteResult[] = [];
  engine.on('publish', (m: OutMessage) => published.push(m));
  engine.on('update', (u: ItemUpdate) => updates.push(u));
  engine.on('write-result', (w: WriteResult) => writes.push(w));
  engine.start();
  await new Promise<void>((resolve) => {
    if (tracker.state === 'connected') return resolve();
    engine.once('scanned', () => resolve());
  });
  return {
    bus, sim, tracker, engine, published, updates, writes, logs,
    waitService: (name, timeoutMs = 5000) => waitUntil(() => engine.cache.services.has(name), timeoutMs, `service ${name}`),
    async waitPublished(pred, timeoutMs = 5000) {
      await waitUntil(() => published.some(pred), timeoutMs, 'a published message');
      return published.find(pred)!;
    },
    async close() {
      await engine.close();
      await sim.stop();
      if (!opts.bus) await bus.stop();
    },
  };
}
