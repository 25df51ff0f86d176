// Scenario 6: the change stream through Node-RED — a gx-notify node with a topic filter into a
// flow — in its own process (node-red-child.ts). Baseline: the engine's own 'update' events
// per second in that process; for Node-RED's CPU per 10 000 messages, an engine alone in its
// own process (engine-child.ts) counting its 'update' events for the same stream, run after
// Node-RED has stopped (every process on the bus receives every signal).
import { drain } from './change-stream';
import { Bench } from './context';
import type { FlowStats } from './node-red-child';
import { PORTAL } from './bridge-process';
import { forkTracked, sleep, stopChild } from './processes';
import { ratio } from './report';
import { RpcChild } from './rpc';
import type { ChangeResult, SimInfo } from './sim-process';

/** Services whose paths all lie under /G0 (syntheticSystem(n, 50)), so the filter matches every change. */
export const G0_PREFIX = 'com.victronenergy.synthetic.g';
export const FILTER = 'synthetic/+/G0/#';
const G0_PATHS = 50;
/** doubles among syntheticSystem's paths 1…49 (6 in 10): the values per signal the generator can change */
const G0_BATCH = Array.from({ length: G0_PATHS - 1 }, (_, i) => i + 1).filter((k) => k % 10 < 6).length;

interface Counted { n: number; cpuSeconds: number; flow?: FlowStats }
interface Phase { rate: number; sent: ChangeResult; count: number; cpuSeconds: number; flow?: FlowStats }

/** Warm-up, then the stream at every rate; `count` reads what arrived so far. */
async function phases(b: Bench, rates: number[], seconds: number, reset: () => Promise<unknown>,
  count: () => Promise<Counted>): Promise<Phase[]> {
  await b.sim.call('startChanges', { valuesPerSecond: 10000, batch: G0_BATCH, prefix: G0_PREFIX });
  await sleep(1000);
  await b.sim.call('stopChanges');
  await drain(async () => (await count()).n, Infinity, 500, 10000, 50);
  const out: Phase[] = [];
  for (const rate of rates) {
    await reset();
    await b.sim.call('startChanges', { valuesPerSecond: rate, batch: G0_BATCH, prefix: G0_PREFIX });
    await sleep(seconds * 1000);
    const sent = (await b.sim.call<ChangeResult>('stopChanges'))!;
    await drain(async () => (await count()).n, sent.values, 1000, 30000, 50);
    const c = await count();
    out.push({ rate, sent, count: c.n, cpuSeconds: c.cpuSeconds, flow: c.flow });
    await sleep(300);
  }
  return out;
}

export async function nodeRedFlow(b: Bench, rates: number[], seconds: number): Promise<void> {
  const info = await b.sim.call<SimInfo>('synthetic', { n: 10, m: G0_PATHS, first: 1000, prefix: G0_PREFIX });
  try {
    const child = new RpcChild(forkTracked('node-red-child.js', ['--gx']), 'node-red-child');
    let nr: Phase[];
    try {
      await child.ready();
      const loaded = await child.call<{ items: number }>('load', { address: b.busAddress, filter: FILTER, portalId: PORTAL, minItems: info.items });
      b.log(`  Node-RED flow deployed, gx-config scanned ${loaded.items} items`);
      nr = await phases(b, rates, seconds, () => child.call('reset'), async () => {
        const s = await child.call<FlowStats>('stats');
        return { n: s.messages, cpuSeconds: s.cpuSeconds, flow: s };
      });
      await child.call('unload');
    } finally {
      await stopChild(child.proc);
    }
    const engine = new RpcChild(forkTracked('engine-child.js', [], { execArgv: ['--expose-gc'] }), 'engine-child');
    let alone: Phase[];
    try {
      await engine.ready();
      await engine.call('watch', { address: b.busAddress, portalId: PORTAL, minItems: info.items });
      alone = await phases(b, rates, seconds, () => engine.call('watchReset'), async () => {
        const s = await engine.call<{ updates: number; cpuSeconds: number }>('watchStats');
        return { n: s.updates, cpuSeconds: s.cpuSeconds };
      });
    } finally {
      await stopChild(engine.proc);
    }
    for (let i = 0; i < nr.length; i++) {
      const p = nr[i];
      const e = alone[i];
      const s = p.flow!;
      const R = `${p.rate / 1000}k values/s`;
      b.log(`  Node-RED at ${p.rate}/s: sent ${p.sent.values} (${p.sent.rate.toFixed(0)}/s), ${s.messages} flow messages at ${s.messageRate.toFixed(0)}/s, ` +
        `${s.updates} engine updates at ${s.updateRate.toFixed(0)}/s, CPU ${s.cpuSeconds.toFixed(2)} s; engine alone: ${e.count} updates, CPU ${e.cpuSeconds.toFixed(2)} s`);
      b.add({
        scenario: 'S6 Node-RED', figure: `gx-notify '${FILTER}' msgs into flow @ ${R}`, unit: 'msg/s',
        value: s.messageRate, baseline: s.updateRate, ratio: ratio(s.messageRate, s.updateRate), target: '', met: null,
        details: { sent: p.sent.values, simRate: p.sent.rate, messages: s.messages, updates: s.updates, cpuSeconds: s.cpuSeconds,
          lostMessages: Math.max(0, p.sent.values - s.messages), valuesPerSignal: G0_BATCH },
      });
      const perMsg = (p.cpuSeconds / Math.max(1, p.count)) * 10000;
      const perUpdate = (e.cpuSeconds / Math.max(1, e.count)) * 10000;
      b.add({
        scenario: 'S6 Node-RED', figure: `CPU of Node-RED per 10k gx-notify msgs @ ${R}`, unit: 's', value: perMsg, baseline: perUpdate,
        ratio: ratio(perMsg, perUpdate), target: '', met: null,
        details: {
          nodeRedCpuSeconds: p.cpuSeconds, messages: p.count, engineCpuSeconds: e.cpuSeconds, engineUpdates: e.count, engineSent: e.sent.values,
          baselineIs: 'an engine alone in its own process (GxGateway on the bus, no Node-RED) counting its update events for the same stream',
          note: 'CPU in 10 ms ticks',
        },
      });
    }
  } finally {
    await b.sim.call('remove', { prefix: G0_PREFIX });
  }
}
