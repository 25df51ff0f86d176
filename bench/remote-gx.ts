// Scenario R1: the GX reached over MQTT. gx-bridge on the bench broker plays the GX (its
// dbus-flashmq); the engine over a RemoteGxSource connects to that broker in its own process.
// - full publish: the remote source's full keep-alive going out → every value in the engine's
//   cache ('scanned'), against a bare MQTT.js subscriber's keep-alive → its receiving the same
//   republish up to full_publish_completed. Fresh connections each repeat, alternating, never
//   both at once. Target ≤ 1.2× baseline (median).
// - change latency: one timestamped value changed on D-Bus → the engine's update event, against
//   the bare subscriber receiving (and parsing) the same notification, both connected at once.
import { BridgeProcess, PORTAL } from './bridge-process';
import { drain, stream } from './change-stream';
import { Bench } from './context';
import { forkTracked, sleep, stopChild } from './processes';
import type { FullResult } from './remote-child';
import { ratio } from './report';
import { RpcChild } from './rpc';
import { summary } from './stats';

const SYNTH = 'com.victronenergy.synthetic.s';

const round = (xs: number[]) => xs.map((x) => +x.toFixed(2));

export interface RemoteOptions {
  label: string;
  /** items the cache must hold after a full publish (blocked paths left out) */
  expected: number;
  reps: number;
  /** the change-latency phase: values per second for this long (synthetic services), or none */
  latency?: { rate: number; seconds: number };
}

export async function remoteScenario(b: Bench, o: RemoteOptions): Promise<void> {
  const url = `mqtt://127.0.0.1:${b.brokerPort}`;
  const bridge: BridgeProcess = await b.startBridge(`R1 the GX for the remote source, ${o.label}`);
  const client = new RpcChild(forkTracked('remote-child.js'), 'remote-child');
  let other: RpcChild | undefined;
  try {
    await client.ready();
    b.log(`R1 remote GX, ${o.label}: ${o.expected} items, ${o.reps} repeats`);
    const full = (mode: 'remote' | 'bare') => client.call<FullResult>('full', { url, portal: PORTAL, mode });
    const remote: FullResult[] = [];
    const bare: FullResult[] = [];
    for (let i = -3; i < o.reps; i++) { // three warm-up pairs
      const r = await full('remote');
      if (r.items < o.expected) throw new Error(`the remote cache holds ${r.items} of ${o.expected} items`);
      await sleep(Math.max(400, r.ms)); // at most 3 full republishes per second (K6)
      const s = await full('bare');
      if (s.items < o.expected) throw new Error(`the bare subscriber received ${s.items} of ${o.expected} items`);
      await sleep(Math.max(400, s.ms));
      if (i >= 0) {
        remote.push(r);
        bare.push(s);
      }
    }
    const rs = summary(remote.map((r) => r.ms));
    const bs = summary(bare.map((r) => r.ms));
    const details = {
      items: remote[0]?.items, remote: rs, bare: bs, remoteMs: round(remote.map((r) => r.ms)), bareMs: round(bare.map((r) => r.ms)),
      baselineIs: 'a bare MQTT.js subscriber: its keep-alive → the same republish received up to full_publish_completed',
    };
    for (const k of ['median', 'p90', 'max'] as const) {
      const q = ratio(rs[k], bs[k]);
      b.add({
        scenario: 'R1 remote GX', figure: `${o.label}, keep-alive → every value in the remote cache, ${k}`, unit: 'ms', value: rs[k],
        baseline: bs[k], ratio: q, target: '≤ 1.2× baseline', met: q <= 1.2, details: k === 'median' ? details : undefined,
      });
    }
    if (o.latency) {
      other = new RpcChild(forkTracked('remote-child.js'), 'remote-child (bare)');
      await other.ready();
      await client.call('watch', { url, portal: PORTAL, mode: 'remote' });
      await other.call('watch', { url, portal: PORTAL, mode: 'bare' });
      await sleep(300);
      await client.call('latencies');
      await other.call('latencies');
      const sent = await stream(b, o.latency.rate, o.latency.seconds, SYNTH, 1);
      const got: { remote: number[]; bare: number[] } = { remote: [], bare: [] };
      await drain(async () => {
        got.remote.push(...await client.call<number[]>('latencies'));
        got.bare.push(...await other!.call<number[]>('latencies'));
        return Math.min(got.remote.length, got.bare.length);
      }, sent.values, 500, 10000, 50);
      const rl = summary(got.remote);
      const bl = summary(got.bare);
      b.add({
        scenario: 'R1 remote GX', figure: `one change → engine update event, ${o.latency.rate}/s`, unit: 'ms', value: rl.median, baseline: bl.median,
        ratio: ratio(rl.median, bl.median), target: '', met: null,
        details: { sent: sent.values, remote: { count: got.remote.length, ...rl }, bare: { count: got.bare.length, ...bl },
          baselineIs: 'the bare MQTT.js subscriber receiving and parsing the same notification' },
      });
      b.log(`  change latency: remote median ${rl.median.toFixed(2)} / p90 ${rl.p90.toFixed(2)} / max ${rl.max.toFixed(2)} ms; ` +
        `bare ${bl.median.toFixed(2)} / ${bl.p90.toFixed(2)} / ${bl.max.toFixed(2)} ms (${got.remote.length}/${got.bare.length} of ${sent.values})`);
      await client.call('unwatch');
      await other.call('unwatch');
    }
  } finally {
    await stopChild(client.proc);
    if (other) await stopChild(other.proc);
    await b.stopBridge(bridge);
  }
}
