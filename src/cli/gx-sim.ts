#!/usr/bin/env node
// gx-sim: puts simulated Victron com.victronenergy.* services on a D-Bus.
//
//   gx-sim --bus <address|system|session> [--speed X] [--no-loop] [--no-replay]
//          [--synthetic NxM] [--rate VALUES_PER_S] [--batch N] [--signals MODE] <files…>
//
// files: .csv dbus-recorder recordings and/or .json scenarios (a bare name such as ess-gx.json
// is also looked up among the scenarios shipped with the package). Prints one line per exported
// service, then "ready: …". When the bus goes away it keeps running and exports its services
// again once the bus is back, like Venus services do (backoff; one line per distinct reason).
// Stops cleanly on SIGINT / SIGTERM.
import * as fs from 'fs';
import * as path from 'path';
import { GxSimulator, loadFile, syntheticSystem } from '../sim';
import type { ServiceDef, SignalMode } from '../sim';
import { optChoice, optNumber, optString, OptionSpec, parseArgs, UsageError } from './args';

const USAGE = `usage: gx-sim --bus <address|system|session> [options] <recording.csv|scenario.json …>
  --bus ADDR        D-Bus address (unix:path=…, tcp:host=…,port=…), 'system' or 'session'
  --speed X         replay speed factor (default 1)
  --no-loop         replay the recorded changes once instead of looping
  --no-replay       export the initial values only
  --synthetic NxM   also export N synthetic services with M paths each
  --rate V          synthetic: send V changed values per second (default 0 = none)
  --batch N         synthetic: values per ItemsChanged (default 1)
  --signals MODE    signal mode for every service: both | items | properties | none
  -h, --help        this text
Files: .csv recordings, .json scenarios, or the name of a scenario shipped with the package
(${shippedScenarios().join(', ') || 'none found'}).`;

/** The package's own scenarios (test/fixtures/scenarios, shipped in the npm package). */
function scenariosDir(): string {
  return path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'scenarios');
}

function shippedScenarios(): string[] {
  try {
    return fs.readdirSync(scenariosDir()).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
}

/** A file as given, else a shipped scenario of that name (with or without .json). */
function resolveFile(f: string): string {
  if (fs.existsSync(f) || f.includes('/') || f.includes(path.sep)) return f;
  for (const name of [f, `${f}.json`]) {
    const p = path.join(scenariosDir(), name);
    if (fs.existsSync(p)) return p;
  }
  return f;
}

interface Args {
  bus?: string;
  speed: number;
  loop: boolean;
  replay: boolean;
  synthetic?: [number, number];
  rate: number;
  batch: number;
  signals?: SignalMode;
  files: string[];
}

const OPTIONS: OptionSpec = {
  values: ['bus', 'speed', 'synthetic', 'rate', 'batch', 'signals'],
  flags: ['no-loop', 'no-replay', 'help'],
  short: { '-h': 'help' },
  positional: true,
};

function argsOf(argv: string[]): Args | undefined {
  const p = parseArgs(argv, OPTIONS);
  if (p.options.has('help')) return undefined;
  const a: Args = {
    bus: optString(p, 'bus'),
    speed: optNumber(p, 'speed') ?? 1,
    loop: !p.options.has('no-loop'),
    replay: !p.options.has('no-replay'),
    rate: optNumber(p, 'rate') ?? 0,
    batch: Math.max(1, Math.floor(optNumber(p, 'batch') ?? 1)),
    files: p.positional,
  };
  if (!(a.speed > 0)) throw new UsageError('--speed must be > 0');
  if (p.options.has('signals')) a.signals = optChoice(p, 'signals', ['both', 'items', 'properties', 'none'] as const, 'both');
  const synthetic = optString(p, 'synthetic');
  if (synthetic !== undefined) {
    const m = /^(\d+)x(\d+)$/i.exec(synthetic);
    if (!m) throw new UsageError('--synthetic takes NxM, e.g. 10x100');
    a.synthetic = [Number(m[1]), Number(m[2])];
  }
  if ((p.options.has('rate') || p.options.has('batch')) && !a.synthetic) throw new UsageError('--rate and --batch need --synthetic NxM');
  if (!a.bus) throw new UsageError('--bus is required');
  if (a.files.length === 0 && !a.synthetic) throw new UsageError('give recordings/scenarios or --synthetic NxM');
  return a;
}

async function main(): Promise<void> {
  let args: Args | undefined;
  try {
    args = argsOf(process.argv.slice(2));
  } catch (e) {
    console.error(`gx-sim: ${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (!args) {
    console.log(USAGE);
    return;
  }
  const defs: ServiceDef[] = [];
  for (const f of args.files) defs.push(...loadFile(resolveFile(f)));
  if (args.synthetic) defs.push(...syntheticSystem(args.synthetic[0], args.synthetic[1]));

  const sim = new GxSimulator({ address: args.bus!, reconnect: true });
  let stopping = false;
  const shutdown = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`gx-sim: ${sig}, stopping`);
    await sim.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => { void shutdown('SIGINT'); });
  process.on('SIGTERM', () => { void shutdown('SIGTERM'); });
  // the bus went away: one line for the outage, one per distinct reason while it stays away,
  // one when every service is back
  const lost = new Set<string>();
  let lastReason = '';
  sim.on('serviceLost', (s: { name: string }) => {
    if (stopping) return;
    if (lost.size === 0) console.error(`gx-sim: lost the bus ${args.bus}; exporting the services again when it is back`);
    lost.add(s.name);
  });
  sim.on('reconnectFailed', (_name: string, e: Error) => {
    if (e.message.replace(/com\.victronenergy\.\S+: /, '') === lastReason) return;
    lastReason = e.message.replace(/com\.victronenergy\.\S+: /, '');
    console.error(`gx-sim: bus ${args.bus} not back yet: ${lastReason}; retrying`);
  });
  sim.on('serviceRestored', (s: { name: string }) => {
    lost.delete(s.name);
    if (lost.size === 0) {
      lastReason = '';
      console.log(`gx-sim: exported ${sim.services().length} services again on ${args.bus}`);
    }
  });

  const overrides = args.signals ? { signals: args.signals } : {};
  for (const def of defs) {
    if (stopping) return;
    const svc = await sim.addService(def, overrides);
    const from = def.source ? ` from ${path.basename(def.source)}` : '';
    console.log(`exported ${svc.name} as ${svc.uniqueName}: ${svc.paths().length} paths${from}`);
  }
  const replaying = args.replay ? sim.startReplay({ speed: args.speed, loop: args.loop }) : 0;
  if (args.synthetic && args.rate > 0) {
    const names = sim.services().filter((s) => s.name.startsWith('com.victronenergy.synthetic.')).map((s) => s.name);
    sim.startChanges({ valuesPerSecond: args.rate, batch: args.batch, services: names });
  }
  console.log(`ready: ${sim.services().length} services on ${args.bus}, ${replaying} replaying` +
    (replaying ? ` at speed ${args.speed}${args.loop ? ', looping' : ''}` : ''));
}

main().catch((e) => {
  console.error(`gx-sim: ${(e as Error).message}`);
  process.exit(1);
});
