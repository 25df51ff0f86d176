// The GX simulator in its own process (child_process.fork), driven over IPC, so that generating
// D-Bus traffic does not share an event loop with the bridge or the subscriber.
// Commands: load, synthetic, remove, info, startChanges, stopChanges, startReplay, stopReplay, stop.
import { ChangeGenerator, GxSimulator, loadFile, syntheticSystem } from '../src/sim';
import { isBlockedPath } from '../src/bridge/item-cache';
import { shortServiceType } from '../src/bridge/topics';
import { cpuSeconds } from './proc-stats';
import { serve } from './rpc';

const address = process.argv[2];
if (!address) throw new Error('usage: sim-process <dbus address>');
const sim = new GxSimulator({ address, timeoutMs: 30000 });
let gen: ChangeGenerator | undefined;
let genCpu0 = 0;
let genT0 = 0;

function names(prefix?: string): string[] {
  return sim.services().map((s) => s.name).filter((n) => !prefix || n.startsWith(prefix));
}

export interface SimInfo {
  services: number;
  items: number;
  /** items the bridge never publishes (vebus /Interfaces/Mk2/Tunnel…) */
  blocked: number;
}

function info(): SimInfo {
  let items = 0;
  let blocked = 0;
  for (const s of sim.services()) {
    const type = shortServiceType(s.name);
    for (const p of s.paths()) {
      items++;
      if (isBlockedPath(type, p)) blocked++;
    }
  }
  return { services: sim.services().length, items, blocked };
}

export interface ChangeResult {
  values: number;
  batches: number;
  skipped: number;
  /** seconds the generator ran */
  seconds: number;
  /** values per second actually sent */
  rate: number;
  /** CPU seconds of the simulator process meanwhile */
  cpuSeconds: number;
}

serve({
  async load(a: { file: string }) {
    await sim.addServices(loadFile(a.file));
    return info();
  },
  async synthetic(a: { n: number; m: number; first?: number; prefix?: string }) {
    await sim.addServices(syntheticSystem(a.n, a.m, { first: a.first, prefix: a.prefix }), {}, 10);
    return info();
  },
  async remove(a: { prefix?: string }) {
    const list = names(a.prefix);
    for (let i = 0; i < list.length; i += 20) await Promise.all(list.slice(i, i + 20).map((n) => sim.removeService(n)));
    return info();
  },
  info,
  startChanges(a: { valuesPerSecond: number; batch: number; prefix?: string }) {
    if (gen) gen.stop();
    genCpu0 = cpuSeconds(process.pid);
    genT0 = performance.now();
    gen = sim.startChanges({ valuesPerSecond: a.valuesPerSecond, batch: a.batch, mode: 'timestamp', services: names(a.prefix) });
    return true;
  },
  stopChanges(): ChangeResult | null {
    if (!gen) return null;
    gen.stop();
    const seconds = (performance.now() - genT0) / 1000;
    const s = gen.stats;
    gen = undefined;
    return { values: s.values, batches: s.batches, skipped: s.skipped, seconds, rate: s.values / seconds, cpuSeconds: cpuSeconds(process.pid) - genCpu0 };
  },
  startReplay(a: { speed: number }) {
    return sim.startReplay({ speed: a.speed, loop: true });
  },
  stopReplay() {
    sim.stopReplay();
    return true;
  },
  async stop() {
    await sim.stop();
    return true;
  },
});
