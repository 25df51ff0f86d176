// npm run bench [-- --quick | --soak | --cpu-prof | --only s1,s2,…,r1]
// Measures gx-bridge on a private dbus-daemon with the GX simulator and a private mosquitto,
// all on 127.0.0.1, against baselines measured in the same run; prints a table and writes
// bench/results/<timestamp>.json and bench/results/latest.json. See bench/README.md.
import * as path from 'path';
import { startPrivateBus } from '../test/support/dbus-daemon';
import { BridgeProcess, PORTAL } from './bridge-process';
import { addChangeFigures, baselinePhases, bridgePhases, forwarderPhases } from './change-stream';
import { bareGetItems, GetItemsResult } from './cold-start';
import { Bench, BenchOptions, ScenarioId } from './context';
import { addFullPublishFigure, measureFullPublish } from './full-publish';
import { addHeapFigure, addRssFigure, engineInProcess } from './memory';
import { startBroker } from './mosquitto-broker';
import { RawMqttClient } from './mqtt-subscriber';
import { nodeRedFlow } from './node-red-flow';
import { nodeRedHeap, nodeRedMemory } from './node-red-gx';
import { forkTracked, onCleanup, sleep, stopAll, stopChild } from './processes';
import { machine, ratio, table, writeResults } from './report';
import { remoteScenario } from './remote-gx';
import { RpcChild } from './rpc';
import type { SimInfo } from './sim-process';
import { ESS, soak } from './soak';
import { median } from './stats';
import { loadFile } from '../src/sim';
import { shortServiceType } from '../src/bridge/topics';


interface Sizes {
  /** repeats of a full publish (after one warm-up) at ESS and 10 000 items, and at 100 000 */
  fullPublishReps: number;
  fullPublishRepsLarge: number;
  /** include the 100 × 1000 system (S1, S4, S5) */
  large: boolean;
  changeRates: number[];
  changeSeconds: number;
  /** each rate this many times (interleaved), figures are medians */
  changeRepeats: number;
  nodeRedRates: number[];
  nodeRedSeconds: number;
  /** S7: rounds of Node-RED processes (each settling for up to 95 s) */
  nodeRedRounds: number;
  coldStartReps: number;
  /** R1: full publishes through the remote source (and the bare subscriber) */
  remoteReps: number;
  remoteLatency: { rate: number; seconds: number };
}

const DEFAULT: Sizes = {
  fullPublishReps: 60, fullPublishRepsLarge: 13, large: true, changeRates: [1000, 10000, 50000], changeSeconds: 8, changeRepeats: 3,
  nodeRedRates: [1000, 10000, 50000], nodeRedSeconds: 8, nodeRedRounds: 2, coldStartReps: 3, remoteReps: 25, remoteLatency: { rate: 200, seconds: 5 },
};
const QUICK: Sizes = {
  fullPublishReps: 10, fullPublishRepsLarge: 0, large: false, changeRates: [1000, 10000], changeSeconds: 2.5, changeRepeats: 1,
  nodeRedRates: [10000], nodeRedSeconds: 2.5, nodeRedRounds: 1, coldStartReps: 2, remoteReps: 5, remoteLatency: { rate: 200, seconds: 2.5 },
};

function parseOptions(argv: string[]): BenchOptions {
  const opts: BenchOptions = { quick: false, soak: false, cpuProf: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') opts.quick = true;
    else if (a === '--soak') opts.soak = true;
    else if (a === '--cpu-prof') opts.cpuProf = true;
    else if (a === '--only') {
      const list = (argv[++i] ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
      for (const s of list) if (!/^(s[1-7]|r1)$/.test(s)) throw new Error(`--only takes s1…s7 and r1, not '${s}'`);
      opts.only = new Set(list as ScenarioId[]);
    } else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: npm run bench -- [--quick] [--soak] [--cpu-prof] [--only s1,s2,s3,s4,s5,s6,s7,r1]\n');
      process.exit(0);
    } else {
      throw new Error(`unknown option '${a}' (try --help)`);
    }
  }
  return opts;
}

/** S1 on a running bridge and, once it is stopped, its baseline. Returns the bridge's RSS after the full publishes. */
/** S1 measures a bridge up for at least this long */
const SETTLE_MS = 12000;

async function fullPublishScenario(b: Bench, bridge: BridgeProcess, label: string, info: SimInfo, reps: number): Promise<number> {
  const expected = bridge.items - info.blocked;
  b.log(`S1 full publish, ${label}: ${bridge.items} items (${expected} published), ${reps} repeats`);
  // a running bridge, not one starting: V8's memory reducer runs its one-off collections some
  // 8–9 s after start-up (seen with --trace-gc), which would land inside the ESS repeats
  const settle = SETTLE_MS - bridge.uptimeMs();
  if (reps > 0 && settle > 0) await sleep(settle);
  const r = await measureFullPublish(b, expected, reps, bridge.pid);
  const rss = bridge.memory().rssBytes;
  await b.stopBridge(bridge);
  addFullPublishFigure(b, label, r.bridge, r.baseline);
  return rss;
}

async function rssFigure(b: Bench, label: string, bridgeRss: number, bridge: BridgeProcess): Promise<void> {
  const bare = await bareGetItems(b);
  addRssFigure(b, label, bridgeRss, bare.rssBytes, { bridgeItems: bridge.items, bareItems: bare.items });
}

async function coldStartScenario(b: Bench, label: string, info: SimInfo, sizes: Sizes, atTargetSize: boolean): Promise<void> {
  b.log(`S5 cold start, ${label}: ${sizes.coldStartReps} repeats each`);
  const readyMs: number[] = [];
  let last: BridgeProcess | undefined;
  for (let i = 0; i < sizes.coldStartReps; i++) {
    const bridge = await b.startBridge(`S5 cold start ${label} #${i + 1}` + (i === sizes.coldStartReps - 1 && b.want('s1') && sizes.large ? ' + S1 full publish' : ''));
    readyMs.push(bridge.readyMs);
    b.log(`  gx-bridge ready in ${bridge.readyMs.toFixed(0)} ms (${bridge.services} services, ${bridge.items} items)`);
    if (i < sizes.coldStartReps - 1) await b.stopBridge(bridge);
    else last = bridge;
  }
  const bare: GetItemsResult[] = [];
  for (let i = 0; i < sizes.coldStartReps; i++) {
    const r = await bareGetItems(b);
    bare.push(r);
    b.log(`  bare dbus-next GetItems ×${r.services}: ${r.ms.toFixed(0)} ms from spawn (${r.getItemsMs.toFixed(0)} ms of calls), ${r.items} items`);
  }
  const v = median(readyMs);
  const base = median(bare.map((r) => r.ms));
  const target = atTargetSize ? '< 3000 ms' : '(< 3000 ms at 100k)';
  if (b.want('s5')) {
    b.add({
      scenario: 'S5 cold start', figure: `gx-bridge spawn → ready, ${label}`, unit: 'ms', value: v, baseline: base, ratio: ratio(v, base),
      target, met: atTargetSize ? v < 3000 : null,
      details: { readyMs, bareMs: bare.map((r) => r.ms), bare, baselineIs: 'bare dbus-next client spawned → GetItems on all services in parallel answered' },
    });
  }
  // the in-process engine: start → 'scanned' against the bare client's connect + GetItems
  const m = await engineInProcess(b);
  const inner = median(bare.map((r) => r.connectMs + r.getItemsMs));
  if (b.want('s5')) {
    b.add({
      scenario: 'S5 cold start', figure: `in-process engine start → scanned, ${label}`, unit: 'ms', value: m.scanMs, baseline: inner,
      ratio: ratio(m.scanMs, inner), target, met: atTargetSize ? m.scanMs < 3000 : null,
      details: { baselineIs: 'bare client connect + ListNames + parallel GetItems, inside its process' },
    });
  }
  if (b.want('s4')) addHeapFigure(b, label, m, atTargetSize);
  const bridge = last!;
  let rss = bridge.memory().rssBytes;
  let rssLabel = `${label}, right after start`;
  if (b.want('s1') && sizes.large && atTargetSize) {
    rss = await fullPublishScenario(b, bridge, label, info, sizes.fullPublishRepsLarge);
    rssLabel = label;
  } else {
    await b.stopBridge(bridge);
  }
  if (b.want('s4')) addRssFigure(b, rssLabel, rss, median(bare.map((r) => r.rssBytes)), { bridgeItems: bridge.items });
}

async function runAll(b: Bench, sizes: Sizes): Promise<void> {
  const sim = b.sim;
  // --- the ESS system (~850 items)
  if (b.want('s1') || b.want('r1') || b.want('s7')) {
    const info = await sim.call<SimInfo>('load', { file: ESS });
    b.log(`ESS scenario loaded: ${info.services} services, ${info.items} items`);
    const label = `ESS ${info.items} items`;
    if (b.want('s1')) {
      const bridge = await b.startBridge('S1 full publish ESS');
      const rss = await fullPublishScenario(b, bridge, label, info, sizes.fullPublishReps);
      if (b.want('s4')) await rssFigure(b, label, rss, bridge);
      // the same while the devices' recordings play in real time, as a GX's values change
      const live = await b.startBridge('S1 full publish ESS, recordings replayed');
      await sim.call('startReplay', { speed: 1 });
      try {
        await fullPublishScenario(b, live, `${label}, recordings replayed`, info, sizes.fullPublishReps);
      } finally {
        await sim.call('stopReplay');
      }
    }
    if (b.want('r1')) await remoteScenario(b, { label, expected: info.items - info.blocked, reps: sizes.remoteReps });
    if (b.want('s7')) {
      // a gx-notify per service, each on its own service type
      const filters = loadFile(ESS).map((d) => `${shortServiceType(d.name)}/+/#`);
      b.log(`S7 Node-RED on a GX, ${label}: gx-config + ${filters.length} gx-notify`);
      await nodeRedMemory(b, label, filters, info.items, info.items - info.blocked, sizes.nodeRedRounds);
    }
    await sim.call('remove', {});
  }
  // --- 1 × 1000
  let info = await sim.call<SimInfo>('synthetic', { n: 1, m: 1000 });
  if (b.want('s4')) {
    b.log('S4 memory, 1×1000');
    addHeapFigure(b, '1×1000', await engineInProcess(b), false);
    const bridge = await b.startBridge('S4 memory 1×1000');
    await measureFullPublish(b, bridge.items - info.blocked, 0, bridge.pid); // one full publish, as the others had
    const rss = bridge.memory().rssBytes;
    await b.stopBridge(bridge);
    await rssFigure(b, '1×1000', rss, bridge);
  }
  // --- 10 × 1000
  info = await sim.call<SimInfo>('synthetic', { n: 9, m: 1000, first: 1 });
  b.log(`synthetic 10×1000 loaded: ${info.items} items`);
  if (b.want('s1')) {
    const bridge = await b.startBridge('S1 full publish 10×1000');
    const rss = await fullPublishScenario(b, bridge, '10×1000', info, sizes.fullPublishReps);
    if (b.want('s4')) await rssFigure(b, '10×1000', rss, bridge);
  }
  if (b.want('r1')) {
    await remoteScenario(b, { label: '10×1000', expected: info.items - info.blocked, reps: sizes.remoteReps, latency: sizes.remoteLatency });
  }
  if (sizes.large) {
    if (b.want('s4')) {
      b.log('S4 memory, 10×1000');
      addHeapFigure(b, '10×1000', await engineInProcess(b), false);
    }
  } else if (b.want('s5') || b.want('s4')) {
    await coldStartScenario(b, '10×1000', info, sizes, false);
  }
  if (!sizes.large && b.want('s7')) await nodeRedHeap(b, '10×1000', info.items, info.items - info.blocked, false);
  if (b.want('s2') || b.want('s3')) {
    const rates = Array.from({ length: sizes.changeRepeats }, () => sizes.changeRates).flat();
    b.log(`S2/S3 change stream at ${sizes.changeRates.join(', ')} values/s, ${sizes.changeSeconds} s each, ${sizes.changeRepeats}×: D-Bus baseline`);
    const base = await baselinePhases(b, rates, sizes.changeSeconds);
    b.log('S2 change stream: the bare forwarder (D-Bus + MQTT limit)');
    const fwd = await forwarderPhases(b, rates, sizes.changeSeconds);
    b.log('S2/S3 change stream: gx-bridge');
    const br = await bridgePhases(b, rates, sizes.changeSeconds);
    addChangeFigures(b, br, base, fwd);
  }
  if (b.want('s6')) {
    b.log(`S6 Node-RED flow at ${sizes.nodeRedRates.join(', ')} values/s`);
    await nodeRedFlow(b, sizes.nodeRedRates, sizes.nodeRedSeconds);
  }
  // --- 100 × 1000
  if (sizes.large && (b.want('s1') || b.want('s4') || b.want('s5') || b.want('s7'))) {
    info = await sim.call<SimInfo>('synthetic', { n: 90, m: 1000, first: 10 });
    b.log(`synthetic 100×1000 loaded: ${info.items} items`);
    if (b.want('s1') || b.want('s4') || b.want('s5')) await coldStartScenario(b, '100×1000', info, sizes, true);
    if (b.want('s7')) await nodeRedHeap(b, '100×1000', info.items, info.items - info.blocked, true);
  }
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  const sizes = opts.quick ? QUICK : DEFAULT;
  const startedAt = new Date();
  const t0 = performance.now();
  let sub: RawMqttClient | undefined;
  let sim: RpcChild | undefined;
  let stopping = false;
  const cleanup = async () => {
    if (stopping) return;
    stopping = true;
    sub?.close();
    if (sim) {
      await sim.call('stop', {}, 10000).catch(() => undefined);
      await stopChild(sim.proc);
    }
    await stopAll();
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\n${sig}: stopping every process the benchmark started\n`);
      cleanup().finally(() => process.exit(130));
    });
  }
  try {
    const bus = await startPrivateBus();
    onCleanup(() => bus.stop());
    const broker = await startBroker();
    sim = new RpcChild(forkTracked('sim-process.js', [bus.address]), 'sim-process');
    await sim.ready();
    sub = await RawMqttClient.connect(broker.port, 'gx-bench-subscriber');
    await sub.subscribe([`N/${PORTAL}/#`]);
    const b = new Bench(opts, bus.address, broker.port, broker.pid, sim, sub);
    const mode = opts.soak ? 'soak' : opts.quick ? 'quick' : 'default';
    b.log(`gx-bridge benchmark, ${mode} run${opts.cpuProf ? ' with --cpu-prof' : ''}: bus ${bus.address}, broker 127.0.0.1:${broker.port}`);
    if (opts.soak) await soak(b, opts.quick ? 1 : 10);
    else await runAll(b, sizes);
    const durationSeconds = (performance.now() - t0) / 1000;
    const withTarget = b.figures.filter((f) => f.met !== null);
    const result = {
      benchmark: '@gx-bridge/node-red-gx gx-bridge',
      mode, options: { ...opts, only: opts.only ? [...opts.only] : undefined }, sizes: opts.soak ? undefined : sizes,
      startedAt: startedAt.toISOString(), durationSeconds, machine: machine(),
      summary: { targets: withTarget.length, met: withTarget.filter((f) => f.met).length, notMet: withTarget.filter((f) => !f.met).map((f) => `${f.scenario}: ${f.figure}`) },
      figures: b.figures, profiles: b.profiles.map((p) => ({ ...p, top: p.top.slice(0, 15) })),
    };
    process.stdout.write('\n' + table(b.figures) + '\n\n');
    process.stdout.write(`targets met: ${result.summary.met} of ${result.summary.targets}; ${durationSeconds.toFixed(0)} s\n`);
    // only a full default run replaces the committed reference
    const reference = mode === 'default' && !opts.only && !opts.cpuProf;
    const files = writeResults(result, reference);
    process.stdout.write(`results: ${path.relative(process.cwd(), files.file)}` +
      (files.latest ? ` (and ${path.relative(process.cwd(), files.latest)})\n` : ` (not a full default run: ${path.relative(process.cwd(), path.join(path.dirname(files.file), 'latest.json'))} left as it is)\n`));
    return 0;
  } catch (e) {
    process.stderr.write(`benchmark failed: ${(e as Error).stack ?? e}\n`);
    return 1;
  } finally {
    await cleanup();
  }
}

main().then((code) => process.exit(code), (e) => {
  process.stderr.write(`${e}\n`);
  process.exit(1);
});
