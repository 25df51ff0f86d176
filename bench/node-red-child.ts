// Scenario 6 in its own process: the real Node-RED runtime (node-red-node-test-helper, as the
// node tests use it) with a gx-config node on the private bus and a gx-notify node with a topic
// filter wired into a helper node that counts messages. The baseline, counted in the same
// process, is the engine's own 'update' events.
import { helper, NODES } from '../test/support/nr-helper';
import { cpuSeconds } from './proc-stats';
import { serve } from './rpc';

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
  cache: { itemCount: number };
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

serve({
  async load(a: { address: string; filter: string; portalId: string; minItems: number }) {
    await helper.load(NODES, [
      { id: 'f1', type: 'tab' },
      { id: 'cfg', type: 'gx-config', dbusAddress: a.address, portalId: a.portalId },
      { id: 'n1', type: 'gx-notify', z: 'f1', server: 'cfg', filter: a.filter, when: 'always', wires: [['out']] },
      { id: 'out', type: 'helper', z: 'f1' },
    ]);
    const cfg = helper.getNode('cfg') as { controller?: { engine?: EngineLike } };
    const engine = cfg.controller?.engine;
    if (!engine) throw new Error('gx-config has no engine');
    const t0 = Date.now();
    while (engine.cache.itemCount < a.minItems) {
      if (Date.now() - t0 > 60000) throw new Error(`only ${engine.cache.itemCount} items after 60 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
    engine.on('update', () => hit(updates));
    (helper.getNode('out') as { on(ev: string, fn: () => void): void }).on('input', () => hit(msgs));
    return { items: engine.cache.itemCount };
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
    return true;
  },
});
