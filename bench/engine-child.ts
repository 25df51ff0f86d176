// The engine in-process (forked with --expose-gc), to measure what the bridge cannot report
// without a hook: heap per cached item after a scan, and start → 'scanned' time.
// Heap figures are heapUsed after global.gc(), minus the same before the gateway was built.
// The baseline is the least a republishing cache must hold: a Map of topic → payload strings
// (freshly allocated copies) for the same items.
import { GxGateway } from '../src/gateway';
import { cpuSeconds, memory } from './proc-stats';
import { serve } from './rpc';
import { heapAfterGc } from './heap';

if (!(globalThis as { gc?: () => void }).gc) throw new Error('engine-child needs --expose-gc');

let gw: GxGateway | undefined;
const watched = { updates: 0, cpu0: 0 };
/** keeps the baseline Map reachable while its heap is measured */
const held: { minimal?: Map<string, string> } = {};

export interface EngineMeasure {
  services: number;
  items: number;
  /** gateway.start() → 'scanned' */
  scanMs: number;
  heapBytes: number;
  heapPerItem: number;
  /** the topic → payload Map of the same items */
  minimalBytes: number;
  minimalPerItem: number;
  rssBytes: number;
}

function fresh(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

serve({
  async measure(a: { address: string; portalId: string }): Promise<EngineMeasure> {
    if (gw) throw new Error('already measuring');
    const base = await heapAfterGc();
    const t0 = performance.now();
    const g = new GxGateway({ dbus: { address: a.address }, engine: { portalId: a.portalId, uniqueIdFile: '' } });
    gw = g;
    const scanned = new Promise<number>((resolve) => g.engine.once('scanned', resolve));
    g.start();
    const services = await scanned;
    const scanMs = performance.now() - t0;
    const withEngine = await heapAfterGc();
    const items = g.engine.cache.itemCount;
    const m = new Map<string, string>();
    for (const s of g.engine.cache.services.values()) {
      for (const it of s.items.values()) m.set(fresh(s.topicOf(it)), fresh(s.payloadOf(it)));
    }
    held.minimal = m;
    const withMinimal = await heapAfterGc();
    const heapBytes = withEngine - base;
    const minimalBytes = withMinimal - withEngine;
    held.minimal = undefined;
    return {
      services, items, scanMs, heapBytes, heapPerItem: heapBytes / items, minimalBytes, minimalPerItem: minimalBytes / items,
      rssBytes: memory(process.pid).rssBytes,
    };
  },
  /** A gateway on the bus that only counts the engine's 'update' events (S6's CPU baseline). */
  async watch(a: { address: string; portalId: string; minItems: number }) {
    if (gw) throw new Error('already running');
    const g = new GxGateway({ dbus: { address: a.address }, engine: { portalId: a.portalId, uniqueIdFile: '' } });
    gw = g;
    g.engine.on('update', () => { watched.updates++; });
    g.start();
    while (g.engine.cache.itemCount < a.minItems) await new Promise((r) => setTimeout(r, 20));
    return { items: g.engine.cache.itemCount };
  },
  watchReset() {
    watched.updates = 0;
    watched.cpu0 = cpuSeconds(process.pid);
    return true;
  },
  watchStats(): { updates: number; cpuSeconds: number } {
    return { updates: watched.updates, cpuSeconds: cpuSeconds(process.pid) - watched.cpu0 };
  },
  /** heap and RSS now (soak samples) */
  async sample() {
    return { heapBytes: await heapAfterGc(), rssBytes: memory(process.pid).rssBytes, items: gw?.engine.cache.itemCount ?? 0 };
  },
  async close() {
    await gw?.close();
    gw = undefined;
    return true;
  },
});
