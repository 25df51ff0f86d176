// A synthetic GX system for load tests: N services × M paths, and a change generator that sends
// values at a given rate in ItemsChanged batches.
import type { SimService } from './service';
import type { PathDef, ServiceDef, SignalMode } from './types';
import { Variant, valuesEqual } from './values';

export interface SyntheticOptions {
  /** Service name prefix; names are `<prefix><i>`. Default 'com.victronenergy.synthetic.s'. */
  prefix?: string;
  /** First index (and DeviceInstance). Default 0. */
  first?: number;
  signals?: SignalMode;
}

/**
 * N service definitions `com.victronenergy.synthetic.s<i>` (i = first … first+n-1) with M paths
 * each: `/DeviceInstance` = i (type i), then paths under `/G<k/50>/` cycling doubles (`D<k>`, 6 in
 * 10), ints (`I<k>`, 3 in 10) and strings (`S<k>`, 1 in 10).
 */
export function syntheticSystem(n: number, m: number, opts: SyntheticOptions = {}): ServiceDef[] {
  const prefix = opts.prefix ?? 'com.victronenergy.synthetic.s';
  const first = opts.first ?? 0;
  const defs: ServiceDef[] = [];
  for (let s = 0; s < n; s++) {
    const i = first + s;
    const paths: Record<string, PathDef> = {};
    if (m > 0) paths['/DeviceInstance'] = { type: 'i', value: i };
    for (let k = 1; k < m; k++) {
      const g = `/G${Math.floor(k / 50)}`;
      const kind = k % 10;
      if (kind < 6) paths[`${g}/D${k}`] = { type: 'd', value: k + 0.5, unit: 'V', decimals: 2 };
      else if (kind < 9) paths[`${g}/I${k}`] = { type: 'i', value: k };
      else paths[`${g}/S${k}`] = { type: 's', value: `text${k}` };
    }
    defs.push({ name: `${prefix}${i}`, paths, options: opts.signals ? { signals: opts.signals } : undefined, source: 'synthetic' });
  }
  return defs;
}

/** One batch of generated changes: one ItemsChanged of one service. */
export interface ChangeBatch {
  service: string;
  paths: string[];
  values: Variant[];
  /** When it was sent: performance.timeOrigin + performance.now(), in ms. */
  at: number;
  /** Running batch number (0, 1, …). */
  seq: number;
}

export interface ChangeOptions {
  /** Total values per second over all services. */
  valuesPerSecond: number;
  /** Values per ItemsChanged (default 1). */
  batch?: number;
  /** Services to change (default: every connected service of the simulator). */
  services?: string[];
  /**
   * 'timestamp' (default): only double paths change, each to the send time in ms
   * (performance.timeOrigin + performance.now()), so a receiver can compute latency from the
   * value. 'sequence': every path except /DeviceInstance changes to a running number (strings
   * `v<n>`), skipping a number equal to the path's current value.
   */
  mode?: 'timestamp' | 'sequence';
  /** Called after each batch is sent. */
  onBatch?: (b: ChangeBatch) => void;
  /** Stop after this many values. */
  maxValues?: number;
}

export interface ChangeStats {
  values: number;
  batches: number;
  /** Batches not sent because the generator fell more than a second behind. */
  skipped: number;
  startedAt: number;
  stoppedAt?: number;
}

/** Sends changes at a steady rate. Stop it with stop(); GxSimulator.stop() stops it too. */
export class ChangeGenerator {
  readonly stats: ChangeStats;
  private timer?: NodeJS.Timeout;
  private readonly targets: Array<{ svc: SimService; paths: string[]; next: number }>;
  private turn = 0;
  private seq = 0;
  private readonly batch: number;
  private readonly start = performance.now();
  private batchesDue = 0;
  private readonly tickMs: number;
  private readonly onStop: () => void;

  constructor(services: SimService[], private readonly opts: ChangeOptions, onStop: () => void = () => undefined) {
    if (!(opts.valuesPerSecond > 0)) throw new Error('valuesPerSecond must be > 0');
    this.batch = Math.max(1, Math.floor(opts.batch ?? 1));
    this.onStop = onStop;
    const mode = opts.mode ?? 'timestamp';
    this.targets = services.map((svc) => ({
      svc,
      paths: svc.paths().filter((p) => p !== '/DeviceInstance' &&
        (mode === 'sequence' || svc.getType(p) === 'd' || svc.getValue(p)?.signature === 'd')),
      next: 0,
    })).filter((t) => t.paths.length > 0);
    if (this.targets.length === 0) throw new Error('no services with paths to change');
    const batchesPerSecond = opts.valuesPerSecond / this.batch;
    this.tickMs = Math.min(50, Math.max(1, 1000 / batchesPerSecond));
    this.stats = { values: 0, batches: 0, skipped: 0, startedAt: Date.now() };
    this.timer = setTimeout(() => this.tick(), 0);
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.stats.stoppedAt === undefined) {
      this.stats.stoppedAt = Date.now();
      this.onStop();
    }
    this.timer = undefined;
  }

  private tick(): void {
    this.timer = undefined;
    if (this.stats.stoppedAt !== undefined) return;
    const bps = this.opts.valuesPerSecond / this.batch;
    const shouldHave = Math.floor(((performance.now() - this.start) / 1000) * bps);
    let due = shouldHave - this.batchesDue;
    if (due > bps + 1) { // more than a second behind: drop the backlog
      this.stats.skipped += due - 1;
      this.batchesDue += due - 1;
      due = 1;
    }
    for (let b = 0; b < due; b++) {
      this.batchesDue++;
      if (!this.sendBatch()) { this.stop(); return; }
      if (this.opts.maxValues !== undefined && this.stats.values >= this.opts.maxValues) { this.stop(); return; }
    }
    this.timer = setTimeout(() => this.tick(), this.tickMs);
  }

  private sendBatch(): boolean {
    const live = this.targets.filter((t) => t.svc.connected);
    if (live.length === 0) return false;
    const t = live[this.turn++ % live.length];
    const mode = this.opts.mode ?? 'timestamp';
    const now = performance.timeOrigin + performance.now();
    const paths: string[] = [];
    const values: Variant[] = [];
    let n = Math.min(this.batch, t.paths.length);
    if (this.opts.maxValues !== undefined) n = Math.min(n, this.opts.maxValues - this.stats.values);
    for (let k = 0; k < n; k++) {
      const p = t.paths[t.next++ % t.paths.length];
      const v = mode === 'timestamp' ? new Variant('d', now) : this.sequenceValue(t.svc, p);
      t.svc.setValue(p, v);
      paths.push(p);
      values.push(v);
    }
    t.svc.flush();
    this.stats.values += n;
    this.stats.batches++;
    this.opts.onBatch?.({ service: t.svc.name, paths, values, at: now, seq: this.seq++ });
    return true;
  }

  private sequenceValue(svc: SimService, p: string): Variant {
    // a value equal to the current one would not be signalled (velib): take the next number then
    const cur = svc.getValue(p);
    let v = this.nextSequenceValue(svc, p);
    if (cur && valuesEqual(cur, v)) v = this.nextSequenceValue(svc, p);
    return v;
  }

  private nextSequenceValue(svc: SimService, p: string): Variant {
    const n = ++this.seqValue;
    const sig = svc.getType(p) ?? svc.getValue(p)?.signature ?? 'd';
    if (sig === 's') return new Variant('s', `v${n}`);
    if (sig === 'd') return new Variant('d', n);
    if (sig === 'x' || sig === 't') return new Variant(sig, BigInt(n));
    if (sig === 'b') return new Variant('b', n % 2 === 0);
    const mod: Record<string, number> = { y: 256, n: 32768, q: 65536, i: 2147483648, u: 4294967296 };
    return new Variant(sig in mod ? sig : 'd', sig in mod ? n % mod[sig] : n);
  }

  private seqValue = 0;
}
