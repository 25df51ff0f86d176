// CPU time and memory of a process, from /proc (Linux): what a process costs, read from the
// outside so that the measured program needs no hook.
import * as fs from 'fs';
import { execFileSync } from 'child_process';

let clkTck: number | undefined;

function ticksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** utime + stime of the process in seconds (field 14 and 15 of /proc/<pid>/stat). */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // the command name (field 2) may hold spaces: the fields after it start after the last ')'
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return (utime + stime) / ticksPerSecond();
}

export interface MemoryStats {
  /** VmRSS */
  rssBytes: number;
  /** VmHWM: the peak resident size */
  peakRssBytes: number;
}

export function memory(pid: number): MemoryStats {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : NaN;
  };
  return { rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') };
}

/** CPU seconds used between two calls, for one process. */
export class CpuMeter {
  private start: number;
  constructor(private readonly pid: number) {
    this.start = cpuSeconds(pid);
  }
  /** seconds since construction (or the last reset) */
  elapsed(): number {
    return cpuSeconds(this.pid) - this.start;
  }
  reset(): void {
    this.start = cpuSeconds(this.pid);
  }
}

/** Our own child processes running `comm` (e.g. the dbus-daemon started by test/support). */
export function childPids(comm: string, parent = process.pid): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (name === comm && ppid === parent) out.push(Number(d));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** CPU use of several processes over a span, as % of one core each. */
export class CpuShares {
  private readonly start = new Map<string, number>();
  private readonly t0 = performance.now();
  constructor(private readonly pids: Record<string, number | undefined>) {
    for (const [k, pid] of Object.entries(pids)) if (pid) this.start.set(k, cpuSeconds(pid));
  }
  percent(): Record<string, number> {
    const secs = (performance.now() - this.t0) / 1000;
    const out: Record<string, number> = {};
    for (const [k, pid] of Object.entries(this.pids)) {
      if (!pid || !this.start.has(k)) continue;
      try {
        out[k] = Math.round(((cpuSeconds(pid) - this.start.get(k)!) / secs) * 100);
      } catch {
        /* exited */
      }
    }
    return out;
  }
}
