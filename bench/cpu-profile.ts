// Reads a V8 .cpuprofile (node --cpu-prof) and sums self time per function.
import * as fs from 'fs';
import * as path from 'path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  fn: string;
  where: string;
  selfMs: number;
  percent: number;
}

function shortUrl(url: string): string {
  if (!url) return '';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) return u.slice(nm + 'node_modules/'.length);
  const dist = u.lastIndexOf('/dist/');
  if (dist >= 0) return u.slice(dist + 6);
  return path.basename(u);
}

/** The `top` functions by self time, and the total sampled time. */
export function topSelfTime(file: string, top = 20): { totalMs: number; idleMs: number; functions: SelfTime[] } {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map<number, ProfileNode>();
  for (const n of prof.nodes) byId.set(n.id, n);
  const self = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = (prof.timeDeltas[i + 1] ?? 0) / 1000;
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
  }
  const agg = new Map<string, SelfTime>();
  let total = 0;
  let idle = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    const cf = n.callFrame;
    const name = cf.functionName || '(anonymous)';
    total += ms;
    if (name === '(idle)') {
      idle += ms;
      continue;
    }
    const where = cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const e = agg.get(key) ?? { fn: name, where, selfMs: 0, percent: 0 };
    e.selfMs += ms;
    agg.set(key, e);
  }
  const busy = total - idle;
  const functions = [...agg.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, top);
  for (const f of functions) f.percent = busy > 0 ? (100 * f.selfMs) / busy : 0;
  return { totalMs: total, idleMs: idle, functions };
}

export function formatProfile(label: string, p: ReturnType<typeof topSelfTime>): string {
  const lines = [`CPU profile of gx-bridge (${label}): ${(p.totalMs - p.idleMs).toFixed(0)} ms busy of ${p.totalMs.toFixed(0)} ms sampled`];
  lines.push('   self ms   % busy  function  (file:line)');
  for (const f of p.functions) {
    lines.push(`${f.selfMs.toFixed(1).padStart(10)} ${f.percent.toFixed(1).padStart(7)}%  ${f.fn}  (${f.where})`);
  }
  return lines.join('\n');
}
