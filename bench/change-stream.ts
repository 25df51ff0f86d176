// Scenarios 2 and 3: a stream of ItemsChanged signals (the simulator in its own process, in
// timestamp mode: every changed double is its send time in ms) through the bridge to the
// subscriber: delivered rate, loss, latency and the bridge's CPU seconds per 10 000
// notifications. Baseline: a bare dbus-next client process that only counts the signals.
import { BridgeProcess, PORTAL } from './bridge-process';
import { Bench } from './context';
import type { ListenStats } from './dbus-baseline-client';
import { forkTracked, sleep, stopChild } from './processes';
import { childPids, CpuMeter, CpuShares } from './proc-stats';
import { ratio } from './report';
import { RpcChild } from './rpc';
import type { ChangeResult } from './sim-process';
import { LatencyRecorder, median } from './stats';

export const BATCH = 100;
const SYNTH = 'com.victronenergy.synthetic.s';
const KEEPALIVE_SUPPRESS = '{"keepalive-options":["suppress-republish"]}';

export interface PhaseResult {
  rate: number;
  sent: ChangeResult;
  received: number;
  lost: number;
  /** values (or messages) per second, first to last received */
  deliveredRate: number;
  p50: number;
  p99: number;
  max: number;
  cpuSeconds: number;
  cpuPer10k: number;
  /** CPU use of every process meanwhile, % of one core (2 cores = 200 %) */
  cpuShare: Record<string, number>;
}

function shares(b: Bench, measured: Record<string, number>): CpuShares {
  return new CpuShares({ ...measured, simulator: b.sim.pid, 'dbus-daemon': childPids('dbus-daemon')[0], mosquitto: b.brokerPid, bench: process.pid });
}

function fmtShares(s: Record<string, number>): string {
  return Object.entries(s).map(([k, v]) => `${k} ${v}%`).join(', ');
}

/** Polls `count()` until it reaches `target` or stops growing for `quietMs`. */
export async function drain(count: () => number | Promise<number>, target: number, quietMs: number, maxMs: number, stepMs = 20): Promise<void> {
  const t0 = Date.now();
  let last = await count();
  let lastChange = Date.now();
  while (last < target && Date.now() - t0 < maxMs) {
    await sleep(stepMs);
    const c = await count();
    if (c !== last) {
      last = c;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > quietMs) {
      break;
    }
  }
}

export async function stream(b: Bench, rate: number, seconds: number, prefix = SYNTH, batch = BATCH): Promise<ChangeResult> {
  await b.sim.call('startChanges', { valuesPerSecond: rate, batch, prefix });
  await sleep(seconds * 1000);
  const r = await b.sim.call<ChangeResult | null>('stopChanges');
  if (!r) throw new Error('the change generator was not running');
  return r;
}

/** The bare D-Bus client at each rate. */
export async function baselinePhases(b: Bench, rates: number[], seconds: number): Promise<PhaseResult[]> {
  const client = new RpcChild(forkTracked('dbus-baseline-client.js'), 'dbus-baseline-client');
  try {
    await client.ready();
    await client.call('listen', { address: b.busAddress });
    await client.call('reset');
    await stream(b, 10000, 1); // warm-up
    await sleep(300);
    const out: PhaseResult[] = [];
    for (const rate of rates) {
      await client.call('reset');
      const cs = shares(b, { 'dbus-client': client.pid });
      const sent = await stream(b, rate, seconds);
      await drain(async () => (await client.call<ListenStats>('stats')).values, sent.values, 1000, 30000, 50);
      const s = await client.call<ListenStats>('stats');
      const cpuShare = cs.percent();
      out.push({ cpuShare,
        rate, sent, received: s.values, lost: Math.max(0, sent.values - s.values), deliveredRate: s.rate,
        p50: s.p50, p99: s.p99, max: s.max, cpuSeconds: s.cpuSeconds, cpuPer10k: (s.cpuSeconds / Math.max(1, s.values)) * 10000,
      });
      b.log(`  D-Bus baseline at ${rate}/s: sent ${sent.values} (${sent.rate.toFixed(0)}/s), received ${s.values} at ${s.rate.toFixed(0)}/s, p99 ${s.p99.toFixed(1)} ms; CPU: ${fmtShares(cpuShare)}`);
      await sleep(300);
    }
    return out;
  } finally {
    await stopChild(client.proc);
  }
}

/**
 * The stream at each rate as the subscriber receives it from `who` (the bridge, or the bare
 * forwarder): messages under N/<portal>/synthetic/, their latency, and the CPU of `pid`.
 */
async function subscriberPhases(b: Bench, who: string, pid: number, rates: number[], seconds: number, rss?: () => number): Promise<PhaseResult[]> {
  const prefix = `N/${PORTAL}/synthetic/`;
  let count = 0;
  let first = 0;
  let last = 0;
  let lat = new LatencyRecorder();
  b.sub.onMessage = (topic, payload) => {
    if (!topic.startsWith(prefix)) return;
    const now = performance.timeOrigin + performance.now();
    if (count === 0) first = now;
    last = now;
    count++;
    // {"value":<ms>}
    const v = Number(payload.toString('latin1', 9, payload.length - 1));
    if (v > 1e12) lat.add(now - v);
  };
  try {
    await stream(b, 10000, 1); // warm-up (JIT)
    await drain(() => count, Infinity, 500, 10000);
    const out: PhaseResult[] = [];
    for (const rate of rates) {
      count = 0;
      lat = new LatencyRecorder();
      const cpu = new CpuMeter(pid);
      const cs = shares(b, { [who]: pid });
      const sent = await stream(b, rate, seconds);
      await drain(() => count, sent.values, 1000, 30000);
      const cpuSeconds = cpu.elapsed();
      const cpuShare = cs.percent();
      const secs = (last - first) / 1000;
      const r: PhaseResult = {
        cpuShare, rate, sent, received: count, lost: Math.max(0, sent.values - count), deliveredRate: secs > 0 ? count / secs : 0,
        p50: lat.percentile(50), p99: lat.percentile(99), max: lat.max(), cpuSeconds, cpuPer10k: (cpuSeconds / Math.max(1, count)) * 10000,
      };
      out.push(r);
      b.log(`  ${who} at ${rate}/s: sent ${sent.values} (${sent.rate.toFixed(0)}/s), received ${count} at ${r.deliveredRate.toFixed(0)}/s, ` +
        `p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms${rss ? `, RSS ${(rss() / 1048576).toFixed(0)} MB` : ''}; CPU: ${fmtShares(cpuShare)}`);
      await sleep(300);
    }
    return out;
  } finally {
    b.sub.onMessage = () => undefined;
  }
}

/** The bridge at each rate, kept alive with suppress-republish keep-alives every 30 s. */
export async function bridgePhases(b: Bench, rates: number[], seconds: number): Promise<PhaseResult[]> {
  const bridge: BridgeProcess = await b.startBridge('S2/S3 change stream');
  const heartbeat = `N/${PORTAL}/heartbeat`;
  let heartbeats = 0;
  b.sub.onMessage = (topic) => {
    if (topic === heartbeat) heartbeats++;
  };
  const keepalive = () => b.sub.publish(`R/${PORTAL}/keepalive`, KEEPALIVE_SUPPRESS);
  const timer = setInterval(keepalive, 30000);
  try {
    keepalive();
    const t0 = Date.now();
    while (heartbeats === 0) {
      if (Date.now() - t0 > 10000) throw new Error('no heartbeat after the keep-alive');
      await sleep(10);
    }
    return await subscriberPhases(b, 'bridge', bridge.pid, rates, seconds, () => bridge.memory().rssBytes);
  } finally {
    clearInterval(timer);
    b.sub.onMessage = () => undefined;
    await b.stopBridge(bridge);
  }
}

/**
 * The D-Bus + MQTT limit: the bare dbus-next client forwarding every value as a hand-encoded
 * PUBLISH, a signal's packets in one write, to the broker and so to the same subscriber.
 */
export async function forwarderPhases(b: Bench, rates: number[], seconds: number): Promise<PhaseResult[]> {
  const client = new RpcChild(forkTracked('dbus-baseline-client.js'), 'dbus-forwarder');
  try {
    await client.ready();
    await client.call('listen', { address: b.busAddress, forward: { port: b.brokerPort, portal: PORTAL } });
    return await subscriberPhases(b, 'forwarder', client.pid, rates, seconds);
  } finally {
    await stopChild(client.proc);
  }
}

export interface Aggregate extends PhaseResult {
  repeats: PhaseResult[];
}

/** Repeats of one rate → one result: medians of rates, latencies and CPU; totals of counts. */
export function aggregate(results: PhaseResult[]): Aggregate[] {
  const rates = [...new Set(results.map((r) => r.rate))];
  return rates.map((rate) => {
    const reps = results.filter((r) => r.rate === rate);
    const med = (f: (r: PhaseResult) => number) => median(reps.map(f));
    const sum = (f: (r: PhaseResult) => number) => reps.reduce((a, r) => a + f(r), 0);
    return {
      rate,
      sent: { ...reps[reps.length - 1].sent, values: sum((r) => r.sent.values), rate: med((r) => r.sent.rate), seconds: sum((r) => r.sent.seconds) },
      received: sum((r) => r.received), lost: sum((r) => r.lost), deliveredRate: med((r) => r.deliveredRate),
      p50: med((r) => r.p50), p99: med((r) => r.p99), max: Math.max(...reps.map((r) => r.max)),
      cpuSeconds: sum((r) => r.cpuSeconds), cpuPer10k: med((r) => r.cpuPer10k), cpuShare: reps[reps.length - 1].cpuShare, repeats: reps,
    };
  });
}

function perRep(reps: PhaseResult[]): Record<string, number[]> {
  return {
    deliveredRate: reps.map((r) => Math.round(r.deliveredRate)), p50: reps.map((r) => +r.p50.toFixed(2)), p99: reps.map((r) => +r.p99.toFixed(2)),
    lost: reps.map((r) => r.lost), cpuPer10k: reps.map((r) => +r.cpuPer10k.toFixed(4)),
  };
}

export function addChangeFigures(b: Bench, bridgeRuns: PhaseResult[], baseRuns: PhaseResult[], forwardRuns: PhaseResult[]): void {
  const bridge = aggregate(bridgeRuns);
  const base = aggregate(baseRuns);
  const fwd = aggregate(forwardRuns);
  for (let i = 0; i < bridge.length; i++) {
    const br = bridge[i];
    const bl = base[i];
    const reps = { repeats: br.repeats.length, bridgeRepeats: perRep(br.repeats), baselineRepeats: perRep(bl.repeats) };
    const R = `${br.rate / 1000}k values/s`;
    const simDetails = { simSentBridge: br.sent, simSentBaseline: bl.sent, cpuShareBridgePhase: br.cpuShare, cpuShareBaselinePhase: bl.cpuShare };
    const q = ratio(br.deliveredRate, bl.deliveredRate);
    b.add({
      scenario: 'S2 change stream', figure: `delivered rate @ ${R}`, unit: 'msg/s', value: br.deliveredRate, baseline: bl.deliveredRate, ratio: q,
      target: '≥ 0.8× baseline', met: q >= 0.8, details: { received: br.received, baselineReceived: bl.received, ...simDetails, ...reps },
    });
    const baselineLossless = bl.lost === 0;
    b.add({
      scenario: 'S2 change stream', figure: `lost @ ${R} (of ${br.sent.values} sent)`, unit: 'msgs', value: br.lost, baseline: bl.lost,
      ratio: ratio(br.lost, bl.lost), target: baselineLossless ? '0 (baseline lossless)' : '— (baseline lost too)',
      met: baselineLossless ? br.lost === 0 : null, details: { sent: br.sent.values, baselineSent: bl.sent.values },
    });
    // latency: against the bare D-Bus client (no broker on its way) and the bare forwarder (the
    // same D-Bus client, its values as PUBLISH packets through the broker to the subscriber)
    const fw = fwd[i];
    const judged = br.rate === 1000 || br.rate === 10000;
    const fwReps = { forwarderRepeats: perRep(fw.repeats), baselineIs: 'the bare dbus-next client: signal received and parsed, no broker' };
    for (const [name, v, base0, fwv] of [['p50', br.p50, bl.p50, fw.p50], ['p99', br.p99, bl.p99, fw.p99]] as const) {
      const q0 = ratio(v, base0);
      b.add({
        scenario: 'S2 change stream', figure: `${name} latency @ ${R}`, unit: 'ms', value: v, baseline: base0, ratio: q0,
        target: judged ? '≤ 1.2× baseline' : '',
        met: judged ? q0 <= 1.2 : null, details: { max: br.max, baselineMax: bl.max, ...fwReps },
      });
      const q1 = ratio(v, fwv);
      b.add({
        scenario: 'S2 change stream', figure: `${name} latency @ ${R}, against D-Bus + MQTT limit`, unit: 'ms', value: v, baseline: fwv, ratio: q1,
        target: judged ? '≤ 1.2× baseline' : '', met: judged ? q1 <= 1.2 : null,
        details: { max: br.max, forwarderMax: fw.max, forwarderLost: fw.lost, forwarderCpuPer10k: fw.cpuPer10k,
          baselineIs: 'the bare dbus-next client forwarding every value as a hand-encoded PUBLISH (one write per signal) through the broker to the same subscriber' },
      });
    }
    if (br.rate === 10000) {
      b.add({
        scenario: 'S2 change stream', figure: `p99 latency @ ${R}, absolute`, unit: 'ms', value: br.p99, baseline: bl.p99, ratio: ratio(br.p99, bl.p99),
        target: '< 20 ms', met: br.p99 < 20,
      });
    }
    b.add({
      scenario: 'S2 change stream', figure: `simulator send rate @ ${R}`, unit: 'values/s', value: br.sent.rate, baseline: bl.sent.rate,
      ratio: ratio(br.sent.rate, bl.sent.rate), target: '', met: null,
      details: { bridgePhase: br.sent, baselinePhase: bl.sent, note: 'baseline = the simulator\'s rate during the D-Bus baseline phase' },
    });
    b.add({
      scenario: 'S3 CPU cost', figure: `CPU per 10k notifications @ ${R}`, unit: 's', value: br.cpuPer10k, baseline: bl.cpuPer10k,
      ratio: ratio(br.cpuPer10k, bl.cpuPer10k), target: '', met: null,
      details: { bridgeCpuSeconds: br.cpuSeconds, notifications: br.received, baselineCpuSeconds: bl.cpuSeconds, baselineValues: bl.received },
    });
  }
}
