// --soak: a long replay at a high rate (the ESS recordings replayed 100× faster plus 10 000
// synthetic values/s), the bridge kept alive and republishing now and then; resident memory
// of gx-bridge, heap of the in-process engine and, as the baseline, RSS and heap of a bare
// dbus-next client receiving the same signals, sampled every 10 s.
import * as path from 'path';
import { PORTAL } from './bridge-process';
import { Bench } from './context';
import type { EngineMeasure } from './engine-child';
import { forkTracked, sleep, stopChild } from './processes';
import { ratio as plainRatio } from './report';
import { RpcChild } from './rpc';

export const ESS = path.join(__dirname, '..', '..', 'test', 'fixtures', 'scenarios', 'ess-gx.json');
const MB = 1048576;

/** growth ratios only against a baseline that grew measurably (≥ 0.5 MB) */
function ratio(v: number, base: number): number {
  return base >= 0.5 * MB ? plainRatio(v, base) : NaN;
}

interface Sample {
  t: number;
  bridgeRss: number;
  bridgeCpu: number;
  engineHeap: number;
  engineRss: number;
  bareRss: number;
  bareHeap: number;
  received: number;
}

export async function soak(b: Bench, minutes: number): Promise<void> {
  await b.sim.call('load', { file: ESS });
  await b.sim.call('synthetic', { n: 10, m: 1000 });
  const bridge = await b.startBridge('soak');
  const engine = new RpcChild(forkTracked('engine-child.js', [], { execArgv: ['--expose-gc'] }), 'engine-child');
  const bare = new RpcChild(forkTracked('dbus-baseline-client.js', [], { execArgv: ['--expose-gc'] }), 'dbus-baseline-client');
  let received = 0;
  b.sub.onMessage = () => { received++; };
  const keepalive = setInterval(() => b.sub.publish(`R/${PORTAL}/keepalive`, '{"keepalive-options":["suppress-republish"]}'), 30000);
  const republish = setInterval(() => b.sub.publish(`R/${PORTAL}/keepalive`, ''), 120000);
  const samples: Sample[] = [];
  try {
    await engine.ready();
    await bare.ready();
    await engine.call<EngineMeasure>('measure', { address: b.busAddress, portalId: PORTAL });
    await bare.call('listen', { address: b.busAddress, latency: false });
    b.sub.publish(`R/${PORTAL}/keepalive`, '');
    await b.sim.call('startReplay', { speed: 100 });
    await b.sim.call('startChanges', { valuesPerSecond: 10000, batch: 100, prefix: 'com.victronenergy.synthetic.s' });
    const t0 = Date.now();
    const end = t0 + minutes * 60000;
    while (Date.now() < end) {
      await sleep(Math.min(10000, Math.max(0, end - Date.now())));
      const e = await engine.call<{ heapBytes: number; rssBytes: number }>('sample');
      const m = await bare.call<{ rssBytes: number; heapBytes: number }>('memory');
      const s: Sample = {
        t: (Date.now() - t0) / 1000, bridgeRss: bridge.memory().rssBytes, bridgeCpu: bridge.cpuSeconds(), engineHeap: e.heapBytes,
        engineRss: e.rssBytes, bareRss: m.rssBytes, bareHeap: m.heapBytes, received,
      };
      samples.push(s);
      b.log(`  soak ${s.t.toFixed(0)} s: gx-bridge RSS ${(s.bridgeRss / MB).toFixed(1)} MB, engine heap ${(s.engineHeap / MB).toFixed(1)} MB, ` +
        `bare client RSS ${(s.bareRss / MB).toFixed(1)} MB, ${received} messages`);
    }
    const sent = await b.sim.call<{ values: number; rate: number }>('stopChanges');
    await b.sim.call('stopReplay');
    // growth after a one-minute warm-up (or from the first sample in short soaks)
    const from = samples.find((s) => s.t >= 60 && s.t < minutes * 60 - 1) ?? samples[0];
    const last = samples[samples.length - 1];
    const span = `${from.t.toFixed(0)}→${last.t.toFixed(0)} s`;
    b.add({
      scenario: 'S4 soak', figure: `gx-bridge RSS growth ${span}`, unit: 'MB', value: (last.bridgeRss - from.bridgeRss) / MB,
      baseline: (last.bareRss - from.bareRss) / MB, ratio: ratio(last.bridgeRss - from.bridgeRss, last.bareRss - from.bareRss), target: '', met: null,
      details: { samples, syntheticSent: sent, baselineIs: 'bare dbus-next client receiving the same signals' },
    });
    b.add({
      scenario: 'S4 soak', figure: `in-process engine heap growth ${span}`, unit: 'MB', value: (last.engineHeap - from.engineHeap) / MB,
      baseline: (last.bareHeap - from.bareHeap) / MB, ratio: ratio(last.engineHeap - from.engineHeap, last.bareHeap - from.bareHeap), target: '', met: null,
    });
  } finally {
    clearInterval(keepalive);
    clearInterval(republish);
    b.sub.onMessage = () => undefined;
    await stopChild(engine.proc);
    await stopChild(bare.proc);
    await b.stopBridge(bridge);
  }
}
