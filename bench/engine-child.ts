// The engine in-process (forked with --expose-gc), to measure what the bridge cannot report
// without a hook: heap per cached item after a scan, and start → 'scanned' time.
// Heap figures are heapUsed after global.gc(), minus the same before the gateway was built.
// The baseline is the least a republishing cache must hold: a Map of topic → payload strings
// (freshly allocated copies) for the same items.
import { GxGateway } from '../src/gateway';
import { memory } from './proc-stats';
import { serve } from './rpc';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('engine-child needs --expose-gc');

/** heapUsed after full GCs, repeated (with a turn of the event loop between) until it settles */
async function heapAfterGc(): Promise<number> {
  let last = Infinity;
  for (let i = 0; i < 6; i++) {
    gc!();
    await new Promise((r) => setImmediate(r));
    gc!();
    const h = process.memoryUsage().heapUsed;
    if (Math.abs(h - last) < 2048) return h;
    last = h;
  }
  return last;
}

let gw: GxGateway | undefined;
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
