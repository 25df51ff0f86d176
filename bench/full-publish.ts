// Scenario 1: full publish. From publishing R/<portal>/keepalive to receiving
// N/<portal>/full_publish_completed at the subscriber, having received every item; against
// the same PUBLISH packets written to the broker in one socket write (mqtt-baseline.ts).
import { PORTAL } from './bridge-process';
import { Bench } from './context';
import { CapturedMessage, encodeBurst, openBurstSocket } from './mqtt-baseline';
import { sleep } from './processes';
import { cpuSeconds } from './proc-stats';
import { ratio } from './report';
import { summary } from './stats';

const PREFIX = `N/${PORTAL}/`;
const MARKER = `${PREFIX}full_publish_completed`;

function isItemTopic(topic: string): boolean {
  return topic.startsWith(PREFIX) && topic.indexOf('/', PREFIX.length) > 0;
}

interface Rep {
  ms: number;
  items: number;
  /** first to last item at the subscriber */
  spreadMs: number;
  /** CPU time of the gx-bridge process during the repeat (bridge repeats only) */
  cpuMs?: number;
}

/** Waits for the marker, counting item messages; `capture` keeps them. */
function awaitMarker(b: Bench, timeoutMs: number, capture?: CapturedMessage[]): { done: Promise<Rep>; start(): void } {
  let count = 0;
  let t0 = 0;
  let first = 0;
  let last = 0;
  let resolve!: (r: Rep) => void;
  let reject!: (e: Error) => void;
  const done = new Promise<Rep>((res, rej) => { resolve = res; reject = rej; });
  const timer = setTimeout(() => reject(new Error(`no ${MARKER} within ${timeoutMs} ms (${count} items received)`)), timeoutMs);
  b.sub.onMessage = (topic, payload, retain) => {
    if (topic === MARKER) {
      const t1 = performance.now();
      clearTimeout(timer);
      b.sub.onMessage = () => undefined;
      resolve({ ms: t1 - t0, items: count, spreadMs: last - first });
      return;
    }
    if (!isItemTopic(topic)) return;
    const now = performance.now();
    if (count === 0) first = now;
    last = now;
    count++;
    if (capture) capture.push({ topic, payload: Buffer.from(payload), retain });
  };
  return { done, start: () => { t0 = performance.now(); } };
}

async function bridgeRep(b: Bench, expected: number, bridgePid: number, capture?: CapturedMessage[]): Promise<Rep> {
  const w = awaitMarker(b, 60000, capture);
  const cpu0 = cpuSeconds(bridgePid);
  w.start();
  b.sub.publish(`R/${PORTAL}/keepalive`, '');
  const r = await w.done;
  r.cpuMs = (cpuSeconds(bridgePid) - cpu0) * 1000;
  if (r.items < expected) throw new Error(`full publish delivered ${r.items} of ${expected} items`);
  return r;
}

async function baselineRep(b: Bench, burst: Buffer, expected: number): Promise<Rep> {
  const sock = await openBurstSocket(b.brokerPort);
  try {
    const w = awaitMarker(b, 60000);
    w.start();
    sock.write(burst);
    const r = await w.done;
    if (r.items < expected) throw new Error(`baseline burst delivered ${r.items} of ${expected}`);
    return r;
  } finally {
    sock.close();
  }
}

/** full publishes before the measured ones (JIT); the first makes the bridge alive */
const WARMUPS = 3;

/**
 * Warm-up full publishes (the first makes the bridge alive and is captured for the baseline), then
 * `reps` pairs: a full publish by the running bridge, and the same packets as one burst from a raw
 * client (the bridge idle meanwhile). Interleaved so that both see the same machine state.
 */
export async function measureFullPublish(b: Bench, expected: number, reps: number, bridgePid: number): Promise<{ bridge: Rep[]; baseline: Rep[] }> {
  const captured: CapturedMessage[] = [];
  for (let i = 0; i < (reps > 0 ? WARMUPS : 1); i++) {
    const warm = await bridgeRep(b, expected, bridgePid, i === 0 ? captured : undefined);
    await sleep(Math.max(400, warm.ms * 0.5));
  }
  const marker: CapturedMessage = { topic: MARKER, payload: Buffer.from(`{"value":${Math.floor(Date.now() / 1000)}}`), retain: false };
  // with values changing meanwhile, a topic can come twice (its change, then the republish): once in the burst
  const messages = [...new Map(captured.map((m) => [m.topic, m])).values()];
  const burst = encodeBurst('gx-bench-burst', messages, marker);
  const bridge: Rep[] = [];
  const baseline: Rep[] = [];
  if (reps > 0) {
    await baselineRep(b, burst, messages.length); // the baseline's warm-up
    await sleep(200);
  }
  for (let i = 0; i < reps; i++) {
    const r = await bridgeRep(b, expected, bridgePid);
    bridge.push(r);
    await sleep(Math.max(200, r.ms * 0.5));
    const base = await baselineRep(b, burst, messages.length);
    baseline.push(base);
    // at most 3 full republishes per second (K6): at least 400 ms from one keep-alive to the next
    await sleep(Math.max(200, base.ms * 0.5, 400 - r.ms - base.ms));
  }
  return { bridge, baseline };
}

export function addFullPublishFigure(b: Bench, label: string, bridge: Rep[], baseline: Rep[]): void {
  const br = summary(bridge.map((r) => r.ms));
  const bl = summary(baseline.map((r) => r.ms));
  const details = {
    items: bridge[0]?.items, bridge: br, baseline: bl, bridgeMs: bridge.map((r) => r.ms), baselineMs: baseline.map((r) => r.ms),
    bridgeSpreadMs: bridge.map((r) => r.spreadMs), baselineSpreadMs: baseline.map((r) => r.spreadMs),
    bridgeFirstItemMs: bridge.map((r) => r.ms - r.spreadMs), baselineFirstItemMs: baseline.map((r) => r.ms - r.spreadMs),
    bridgeCpuMs: bridge.map((r) => r.cpuMs), pairRatios: bridge.map((r, i) => +(r.ms / baseline[i].ms).toFixed(3)),
    note: 'FirstItemMs = request (or write) → first item at the subscriber; CPU in 10 ms ticks',
  };
  const q = ratio(br.median, bl.median);
  b.add({
    scenario: 'S1 full publish', figure: `${label}, keepalive → completed, median`, unit: 'ms', value: br.median, baseline: bl.median, ratio: q,
    target: '≤ 1.2× baseline', met: q <= 1.2, details,
  });
  // the tail: no worse than the MQTT limit's own, and close to the bridge's own median
  const q90 = ratio(br.p90, bl.p90);
  b.add({
    scenario: 'S1 full publish', figure: `${label}, keepalive → completed, p90`, unit: 'ms', value: br.p90, baseline: bl.p90, ratio: q90,
    target: '≤ 1.2× baseline', met: q90 <= 1.2,
  });
  const own = br.p90 / br.median;
  const baseOwn = bl.p90 / bl.median;
  b.add({
    scenario: 'S1 full publish', figure: `${label}, p90 ÷ own median`, unit: '×', value: own, baseline: baseOwn, ratio: ratio(own, baseOwn),
    target: '≤ 1.3', met: own <= 1.3, details: { baselineIs: 'the MQTT limit\'s own p90 ÷ median' },
  });
  b.add({
    scenario: 'S1 full publish', figure: `${label}, keepalive → completed, max`, unit: 'ms', value: br.max, baseline: bl.max, ratio: ratio(br.max, bl.max),
    target: '', met: null,
  });
}
