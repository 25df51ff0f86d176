// Node-RED in its own process: the real runtime (node-red-node-test-helper, as the node tests
// use it), forked with --expose-gc.
// - S6 (`load`): a gx-config node on the private bus and a gx-notify node with a topic filter
//   wired into a helper node that counts messages; the engine's own 'update' events are counted
//   in the same process.
// - S7 (`deploy`, `memory`): Node-RED on a GX. Started with `--gx` our nodes are registered (as
//   when the package is installed), without it only Node-RED's core nodes are, and nothing of
//   ours is loaded; `deploy` starts the runtime with a flow (a gx-config on the bus and a
//   gx-notify per filter, or nothing), `memory` reads VmRSS and the heap after gc.
import * as path from 'path';
import { CORE_NODES, helper } from '../test/support/nr-runtime';
import { cpuSeconds, memory } from './proc-stats';
import { serve } from './rpc';
import { heapAfterGc } from './heap';

const withGx = process.argv.includes('--gx');
const NODES = withGx
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- our compiled node modules, as Node-RED loads them
  ? ['gx-config', 'gx-notify', 'gx-read', 'gx-write', 'gx-keepalive'].map((t) => require(path.join(__dirname, '..', 'nodes', t, `${t}.js`))).concat(CORE_NODES)
  : CORE_NODES;

interface Counter { n: number; first: number; last: number }
const msgs: Counter = { n: 0, first: 0, last: 0 };
const updates: Counter = { n: 0, first: 0, last: 0 };
let cpu0 = 0;

function hit(c: Counter): void {
  const now = performance.now();
  if (c.n === 0) c.first = now;
  c.last = now;
  c.n++;
}

function rate(c: Counter): number {
  const s = (c.last - c.first) / 1000;
  return s > 0 ? c.n / s : 0;
}

interface EngineLike {
  cache: { itemCount: number; services: Map<string, { items: Map<string, unknown>; topicOf(i: unknown): string; payloadOf(i: unknown): string }> };
  on(ev: string, fn: (...a: unknown[]) => void): void;
  once(ev: string, fn: (...a: unknown[]) => void): void;
}

export interface FlowStats {
  messages: number;
  messageRate: number;
  updates: number;
  updateRate: number;
  lastMessageAt: number;
  cpuSeconds: number;
}

export interface NodeRedMemory {
  rssBytes: number;
  /** heapUsed after full GCs */
  heapBytes: number;
  items: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The deployed gx-config's engine, once it holds at least `minItems` items. */
async function engineWith(minItems: number): Promise<EngineLike> {
  const cfg = helper.getNode('cfg') as { controller?: { engine?: EngineLike } };
  const engine = cfg.controller?.engine;
  if (!engine) throw new Error('gx-config has no engine');
  const t0 = Date.now();
  while (engine.cache.itemCount < minItems) {
    if (Date.now() - t0 > 120000) throw new Error(`only ${engine.cache.itemCount} items after 120 s`);
    await sleep(20);
  }
  return engine;
}

let deployed: EngineLike | undefined;

serve({
  async load(a: { address: string; filter: string; portalId: string; minItems: number }) {
    if (!withGx) throw new Error('started without --gx');
    await helper.load(NODES, [
      { id: 'f1', type: 'tab' },
      { id: 'cfg', type: 'gx-config', dbusAddress: a.address, portalId: a.portalId },
      { id: 'n1', type: 'gx-notify', z: 'f1', server: 'cfg', filter: a.filter, when: 'always', wires: [['out']] },
      { id: 'out', type: 'helper', z: 'f1' },
    ]);
    const engine = await engineWith(a.minItems);
    engine.on('update', () => hit(updates));
    (helper.getNode('out') as { on(ev: string, fn: () => void): void }).on('input', () => hit(msgs));
    return { items: engine.cache.itemCount };
  },
  /** Starts the runtime with a gx-config on `address` and a gx-notify per filter into a helper node, or (no address) an empty flow. */
  async deploy(a: { address?: string; portalId?: string; filters?: string[]; minItems?: number }) {
    const flow: object[] = [{ id: 'f1', type: 'tab' }, { id: 'out', type: 'helper', z: 'f1' }];
    if (a.address) {
      if (!withGx) throw new Error('started without --gx');
      flow.push({ id: 'cfg', type: 'gx-config', dbusAddress: a.address, portalId: a.portalId });
      (a.filters ?? []).forEach((filter, i) => flow.push({ id: `n${i}`, type: 'gx-notify', z: 'f1', server: 'cfg', filter, wires: [['out']] }));
    }
    await helper.load(NODES, flow);
    if (a.address) deployed = await engineWith(a.minItems ?? 1);
    return { items: deployed?.cache.itemCount ?? 0 };
  },
  /** VmRSS after `settleMs` as it is (no forced GC), then the heap after full GCs. */
  async memory(a: { settleMs?: number }): Promise<NodeRedMemory> {
    await sleep(a.settleMs ?? 0);
    const rssBytes = memory(process.pid).rssBytes;
    return { rssBytes, heapBytes: await heapAfterGc(), items: deployed?.cache.itemCount ?? 0 };
  },
  /**
   * Heap per item of a deployed gx-config: the heap after gc with an empty flow, then with a
   * gx-config on `address` holding every item, and a Map of topic → payload (fresh strings) of the
   * same items on top (the least a republishing cache holds).
   */
  async heapPerItem(a: { address: string; portalId: string; minItems: number }) {
    if (!withGx) throw new Error('started without --gx');
    await helper.load(NODES, [{ id: 'f1', type: 'tab' }]);
    const empty = await heapAfterGc();
    await helper.unload();
    await helper.load(NODES, [{ id: 'f1', type: 'tab' }, { id: 'cfg', type: 'gx-config', dbusAddress: a.address, portalId: a.portalId }]);
    const engine = await engineWith(a.minItems);
    const withConfig = await heapAfterGc();
    const fresh = (x: string) => Buffer.from(x, 'utf8').toString('utf8');
    const minimal = new Map<string, string>();
    for (const svc of engine.cache.services.values()) for (const it of svc.items.values()) minimal.set(fresh(svc.topicOf(it)), fresh(svc.payloadOf(it)));
    const withMinimal = await heapAfterGc();
    const items = engine.cache.itemCount;
    const result = { items, heapBytes: withConfig - empty, minimalBytes: withMinimal - withConfig, rssBytes: memory(process.pid).rssBytes, mapSize: minimal.size };
    await helper.unload();
    return result;
  },
  reset() {
    Object.assign(msgs, { n: 0, first: 0, last: 0 });
    Object.assign(updates, { n: 0, first: 0, last: 0 });
    cpu0 = cpuSeconds(process.pid);
    return true;
  },
  stats(): FlowStats {
    return {
      messages: msgs.n, messageRate: rate(msgs), updates: updates.n, updateRate: rate(updates),
      lastMessageAt: msgs.last, cpuSeconds: cpuSeconds(process.pid) - cpu0,
    };
  },
  async unload() {
    await helper.unload();
    deployed = undefined;
    return true;
  },
});
