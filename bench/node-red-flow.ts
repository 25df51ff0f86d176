// Scenario 6: the change stream through Node-RED — a gx-notify node with a topic filter into a
// flow — in its own process (node-red-child.ts). Baseline: the engine's own 'update' events
// per second in that process.
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

export async function nodeRedFlow(b: Bench, rates: number[], seconds: number): Promise<void> {
  const info = await b.sim.call<SimInfo>('synthetic', { n: 10, m: G0_PATHS, first: 1000, prefix: G0_PREFIX });
  const child = new RpcChild(forkTracked('node-red-child.js'), 'node-red-child');
  try {
    await child.ready();
    const loaded = await child.call<{ items: number }>('load', { address: b.busAddress, filter: FILTER, portalId: PORTAL, minItems: info.items });
    b.log(`  Node-RED flow deployed, gx-config scanned ${loaded.items} items`);
    // warm-up
    await b.sim.call('startChanges', { valuesPerSecond: 10000, batch: G0_BATCH, prefix: G0_PREFIX });
    await sleep(1000);
    await b.sim.call('stopChanges');
    await drain(async () => (await child.call<FlowStats>('stats')).messages, Infinity, 500, 10000, 50);
    for (const rate of rates) {
      await child.call('reset');
      await b.sim.call('startChanges', { valuesPerSecond: rate, batch: G0_BATCH, prefix: G0_PREFIX });
      await sleep(seconds * 1000);
      const sent = (await b.sim.call<ChangeResult>('stopChanges'))!;
      await drain(async () => (await child.call<FlowStats>('stats')).messages, sent.values, 1000, 30000, 50);
      const s = await child.call<FlowStats>('stats');
      b.log(`  Node-RED at ${rate}/s: sent ${sent.values} (${sent.rate.toFixed(0)}/s), ${s.messages} flow messages at ${s.messageRate.toFixed(0)}/s, ` +
        `${s.updates} engine updates at ${s.updateRate.toFixed(0)}/s, CPU ${s.cpuSeconds.toFixed(2)} s`);
      b.add({
        scenario: 'S6 Node-RED', figure: `gx-notify '${FILTER}' msgs into flow @ ${rate / 1000}k values/s`, unit: 'msg/s',
        value: s.messageRate, baseline: s.updateRate, ratio: ratio(s.messageRate, s.updateRate), target: '', met: null,
        details: { sent: sent.values, simRate: sent.rate, messages: s.messages, updates: s.updates, cpuSeconds: s.cpuSeconds,
          lostMessages: Math.max(0, sent.values - s.messages), valuesPerSignal: G0_BATCH },
      });
      await sleep(300);
    }
    await child.call('unload');
  } finally {
    await stopChild(child.proc);
    await b.sim.call('remove', { prefix: G0_PREFIX });
  }
}
