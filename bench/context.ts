// What every scenario shares: options, the private bus and broker, the simulator process, the
// subscriber, the figures collected so far and the CPU profiles of the bridge.
import { BridgeProcess } from './bridge-process';
import { formatProfile, topSelfTime } from './cpu-profile';
import { RawMqttClient } from './mqtt-subscriber';
import { Figure } from './report';
import { RpcChild } from './rpc';

export type ScenarioId = 's1' | 's2' | 's3' | 's4' | 's5' | 's6' | 's7' | 'r1';

export interface BenchOptions {
  quick: boolean;
  soak: boolean;
  cpuProf: boolean;
  /** only these scenarios (all when undefined) */
  only?: Set<ScenarioId>;
}

export interface ProfileSummary {
  label: string;
  file: string;
  busyMs: number;
  top: Array<{ fn: string; where: string; selfMs: number; percent: number }>;
}

export class Bench {
  readonly figures: Figure[] = [];
  readonly profiles: ProfileSummary[] = [];
  readonly notes: string[] = [];
  private readonly t0 = Date.now();

  constructor(
    readonly opts: BenchOptions,
    readonly busAddress: string,
    readonly brokerPort: number,
    readonly brokerPid: number,
    readonly sim: RpcChild,
    readonly sub: RawMqttClient,
  ) {}

  want(s: ScenarioId): boolean {
    return !this.opts.only || this.opts.only.has(s);
  }

  log(msg: string): void {
    process.stderr.write(`[${((Date.now() - this.t0) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);
  }

  add(f: Figure): void {
    this.figures.push(f);
    this.log(`  ${f.scenario} ${f.figure}: ${f.value.toFixed(2)} ${f.unit} (baseline ${f.baseline.toFixed(2)})`);
  }

  startBridge(label: string): Promise<BridgeProcess> {
    return BridgeProcess.start({ dbus: this.busAddress, brokerPort: this.brokerPort, cpuProf: this.opts.cpuProf, label });
  }

  /** Stops the bridge; with --cpu-prof, reads and prints its profile. */
  async stopBridge(b: BridgeProcess): Promise<void> {
    const file = await b.stop();
    if (!file) return;
    const label = b.opts.label ?? 'bridge';
    const p = topSelfTime(file, 25);
    this.profiles.push({ label, file, busyMs: p.totalMs - p.idleMs, top: p.functions });
    process.stderr.write(formatProfile(label, p) + '\n');
  }
}
