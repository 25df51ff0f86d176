// Figures, the printed table and the JSON results file.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface Figure {
  /** S1 … S6 and a short name */
  scenario: string;
  /** what was measured (size, rate…) */
  figure: string;
  unit: string;
  value: number;
  baseline: number;
  /** value / baseline */
  ratio: number;
  /** the target, in words (empty when the figure has none) */
  target: string;
  /** true / false against the target; null when there is none */
  met: boolean | null;
  /** raw numbers behind the figure (repeats, counts…) */
  details?: Record<string, unknown>;
}

export function ratio(value: number, baseline: number): number {
  return baseline !== 0 && Number.isFinite(baseline) && Number.isFinite(value) ? value / baseline : NaN;
}

export function fmt(v: number, unit = ''): string {
  if (!Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  const n = a >= 1000 ? v.toFixed(0) : a >= 100 ? v.toFixed(1) : a >= 10 ? v.toFixed(2) : a >= 1 ? v.toFixed(2) : a === 0 ? '0' : v.toPrecision(3);
  return unit ? `${n} ${unit}` : n;
}

export function table(figures: Figure[]): string {
  const rows = [['scenario', 'figure', 'value', 'baseline', 'ratio', 'target', 'met']];
  for (const f of figures) {
    rows.push([f.scenario, f.figure, fmt(f.value, f.unit), fmt(f.baseline, f.unit), Number.isFinite(f.ratio) ? f.ratio.toFixed(2) + '×' : '—',
      f.target || '—', f.met === null ? '—' : f.met ? 'met' : 'NOT met']);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  const sep = '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|';
  return [line(rows[0]), sep, ...rows.slice(1).map(line)].join('\n');
}

function version(cmd: string, args: string[], re: RegExp): string {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return re.exec(out)?.[1] ?? out.split('\n')[0];
  } catch (e) {
    const out = String((e as { stdout?: string }).stdout ?? '');
    return re.exec(out)?.[1] ?? 'unknown';
  }
}

export function machine(): Record<string, unknown> {
  return {
    nproc: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memTotalBytes: os.totalmem(),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    mosquitto: version('mosquitto', ['-h'], /mosquitto version (\S+)/),
    dbusDaemon: version('dbus-daemon', ['--version'], /Message Bus Daemon (\S+)/),
  };
}

/**
 * Writes bench/results/<timestamp>.json and, for a reference run only (a full default run:
 * no --quick, --only, --cpu-prof or --soak), bench/results/latest.json, the committed reference.
 */
export function writeResults(result: Record<string, unknown>, reference: boolean): { file: string; latest?: string } {
  const dir = path.join(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(dir, `${stamp}.json`);
  const text = JSON.stringify(result, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
  fs.writeFileSync(file, text);
  if (!reference) return { file };
  const latest = path.join(dir, 'latest.json');
  fs.writeFileSync(latest, text);
  return { file, latest };
}
