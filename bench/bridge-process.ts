// gx-bridge as a separate process (as users run it), so that its CPU time and memory are its
// own in /proc. Optionally under `node --cpu-prof`, whose profile is written when it exits.
import { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { memory, MemoryStats, cpuSeconds } from './proc-stats';
import { spawnTracked, stopChild, tempDir } from './processes';

export const PORTAL = 'benchportal0';
const CLI = path.join(__dirname, '..', 'src', 'cli', 'gx-bridge.js');

export interface BridgeOptions {
  dbus: string;
  brokerPort: number;
  cpuProf?: boolean;
  /** label for the profile */
  label?: string;
}

export class BridgeProcess {
  readonly proc: ChildProcess;
  /** spawn → "gx-bridge ready" line, ms */
  readyMs = NaN;
  services = 0;
  items = 0;
  private out = '';
  private readonly profDir: string | undefined;
  private readonly t0: number;

  private constructor(readonly opts: BridgeOptions) {
    // extra node options for experiments (e.g. `-r ./preload.js`, `--max-semi-space-size=32`)
    const execArgv: string[] = (process.env.BENCH_BRIDGE_NODE_ARGS ?? '').split(' ').filter(Boolean);
    if (opts.cpuProf) {
      this.profDir = tempDir('cpuprof');
      execArgv.push('--cpu-prof', `--cpu-prof-dir=${this.profDir}`);
    }
    this.t0 = performance.now();
    this.proc = spawnTracked(process.execPath, [...execArgv, CLI, '--dbus', opts.dbus, '--broker', `mqtt://127.0.0.1:${opts.brokerPort}`,
      '--portal-id', PORTAL]);
  }

  static async start(opts: BridgeOptions, timeoutMs = 60000): Promise<BridgeProcess> {
    const b = new BridgeProcess(opts);
    await b.waitReady(timeoutMs);
    return b;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** since the process was spawned */
  uptimeMs(): number {
    return performance.now() - this.t0;
  }

  output(): string {
    return this.out;
  }

  private waitReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`gx-bridge not ready after ${timeoutMs} ms; output:\n${this.out.slice(-2000)}`)), timeoutMs);
      const fail = (e: Error) => {
        clearTimeout(timer);
        this.proc.kill('SIGKILL');
        reject(e);
      };
      // BENCH_BRIDGE_LOG_DIR: every bridge's whole output in a file there (e.g. with --trace-gc)
      const logDir = process.env.BENCH_BRIDGE_LOG_DIR;
      const logFile = logDir ? path.join(logDir, `gx-bridge-${this.proc.pid}.log`) : undefined;
      const onData = (c: Buffer) => {
        if (logFile) fs.appendFileSync(logFile, c);
        this.out += c.toString();
        if (this.out.length > 100000) this.out = this.out.slice(-50000);
        if (!Number.isNaN(this.readyMs)) return;
        const m = /gx-bridge ready: .*?(\d+) services, (\d+) items/.exec(this.out);
        if (m) {
          this.readyMs = performance.now() - this.t0;
          this.services = Number(m[1]);
          this.items = Number(m[2]);
          clearTimeout(timer);
          resolve();
        }
      };
      this.proc.stdout!.on('data', onData);
      this.proc.stderr!.on('data', onData);
      this.proc.once('exit', (code, sig) => fail(new Error(`gx-bridge exited (${code ?? sig}); output:\n${this.out.slice(-2000)}`)));
    });
  }

  cpuSeconds(): number {
    return cpuSeconds(this.pid);
  }

  memory(): MemoryStats {
    return memory(this.pid);
  }

  /** SIGTERM (gx-bridge closes and exits, writing its CPU profile), SIGKILL after 10 s. */
  async stop(): Promise<string | undefined> {
    await stopChild(this.proc, 10000);
    if (!this.profDir) return undefined;
    const files = fs.readdirSync(this.profDir).filter((f) => f.endsWith('.cpuprofile'));
    return files.length ? path.join(this.profDir, files[0]) : undefined;
  }
}
