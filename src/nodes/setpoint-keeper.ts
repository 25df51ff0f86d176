// The setpoint keeper of gx-write: after a successful write it writes the same value again
// every `repeatMs`, so that setpoints the GX only holds for a while (ESS / Multi RS
// Hub4/L<n>/AcPowerSetpoint: about 60 s) stay in force. One hold per item; a new value for
// the item replaces its hold. A hold ends
//  - on a stop message (stop()), on close (redeploy),
//  - when no new value arrived for `holdMs` (the safety rule: a dead upstream flow lets the GX
//    fall back to its own control instead of holding the last setpoint for ever),
//  - when the GX goes away: the source disconnects or goes stale, or the item's service leaves
//    the bus. It does not resume by itself when the GX returns: it waits for a new value,
//  - after `maxFailures` failed repeats in a row (the first failure is reported at once).
//  - when a write from elsewhere (an MQTT W, another gx-write node) to the item is queued:
//    the newer value is the one in force, and the keeper never writes its older one over it.
// Every repeat goes through the same write path as any write (policy, type, min/max, limits).
//
// Order (a wrong write is the worst bug there is): an old value is never written after a newer
// one. input() ends the item's hold before the new value is queued, so no repeat of the old one
// can follow it, and holds the new value only from that write's own result, and only if nothing
// newer was queued for the item meanwhile (a newer input, a stop, a write from elsewhere). A
// repeat asks the write path for "only if idle": it is skipped, never queued, while the item has
// any write in flight or waiting, so it can neither supersede nor follow a newer write.
import type { GxEngine, QueuedWrite, WriteOptions, WriteOrigin } from '../bridge/engine';
import type { Service } from '../bridge/item-cache';
import type { JsonLiteral } from '../bridge/json-literal';
import type { ItemAddress } from '../bridge/topics';
import type { FlowWriteResult } from './write-controller';

export interface KeeperOptions {
  repeatMs: number;
  holdMs: number;
  /** failed repeats in a row that end the hold (default 3) */
  maxFailures?: number;
}

export type StopReason = 'stopped' | 'expired' | 'failed' | 'service-gone' | 'gx-gone' | 'taken-over' | 'closed' | 'replaced';

export interface Hold<C> {
  /** `<type>/<instance><path>` */
  readonly key: string;
  readonly addr: ItemAddress;
  readonly lit: JsonLiteral;
  /** the value as written (as the write result shows it: masked settings masked) */
  readonly value: unknown;
  /** the D-Bus service written to */
  readonly service: string | undefined;
  /** what the node keeps with the hold (the message that started it) */
  readonly context: C;
  /** when the hold ends unless a new value arrives (Date.now() ms) */
  readonly until: number;
  /** repeats written so far */
  repeats: number;
  /** failed repeats in a row */
  failures: number;
  /** the last repeat's error, while repeats fail */
  lastError: string | undefined;
  /** for 'taken-over': where the newer write came from */
  takenOverBy?: WriteOrigin;
}

/** What came of input(): the write's result, and the hold it started (if it started one). */
export interface InputOutcome<C> {
  result: FlowWriteResult;
  hold?: Hold<C>;
  /** written, but a newer write to the item from elsewhere was queued after it: not held */
  overtakenBy?: WriteOrigin;
}

export interface KeeperHooks<C> {
  /** one write, through the node's write path, with these options for the engine */
  write(addr: ItemAddress, lit: JsonLiteral, opts: WriteOptions): Promise<FlowWriteResult>;
  /** every repeat's result */
  repeated(hold: Hold<C>, result: FlowWriteResult): void;
  /** the first failed repeat of a run of failures (reported once, not every repeat) */
  failing(hold: Hold<C>, result: FlowWriteResult): void;
  /** a hold ended (not called for 'replaced' and 'closed') */
  ended(hold: Hold<C>, reason: StopReason): void;
  /** the set of holds or their state changed (for the node's status) */
  changed(): void;
}

/** An input of the node being written; the engine's 'write-queued' event names its service. */
interface Pending {
  path: string;
  service: string | undefined;
  overtakenBy: WriteOrigin | undefined;
}

interface Running<C> extends Hold<C> {
  until: number;
  lastStart: number;
  timer: NodeJS.Timeout | undefined;
  active: boolean;
}

/** A timer that fires this much early still counts as on time. */
const SLACK_MS = 2;

export function holdKey(addr: ItemAddress): string {
  return `${addr.type}/${addr.instance}${addr.path}`;
}

export class SetpointKeeper<C> {
  private readonly holdsByKey = new Map<string, Running<C>>();
  /** the newest input per item while it is written */
  private readonly pending = new Map<string, Pending>();
  /** the writers this keeper hands to the engine (its own writes): inputs, and holds for repeats */
  private readonly inputs = new WeakSet<object>();
  private readonly repeaters = new WeakSet<object>();
  private readonly maxFailures: number;
  private closed = false;
  // the engine drops every service when the source disconnects: that is the GX going away
  private readonly onServiceGone = (s: Service) =>
    this.endWhere((h) => h.service === s.name, this.engine.sourceState === 'connected' ? 'service-gone' : 'gx-gone');
  private readonly onState = (state: string) => { if (state !== 'connected') this.endWhere(() => true, 'gx-gone'); };
  private readonly onStale = (stale: boolean) => { if (stale) this.endWhere(() => true, 'gx-gone'); };
  private readonly onQueued = (q: QueuedWrite) => this.queued(q);

  constructor(private readonly engine: GxEngine, readonly opts: KeeperOptions, private readonly hooks: KeeperHooks<C>) {
    if (!(opts.repeatMs > 0) || !(opts.holdMs >= opts.repeatMs)) {
      throw new Error(`repeat every ${opts.repeatMs / 1000} s for at most ${opts.holdMs / 1000} s: both must be positive, the hold time at least the interval`);
    }
    this.maxFailures = Math.max(1, opts.maxFailures ?? 3);
    engine.on('service-gone', this.onServiceGone);
    engine.on('state', this.onState);
    engine.on('stale', this.onStale);
    engine.on('write-queued', this.onQueued);
  }

  get holds(): Hold<C>[] {
    return [...this.holdsByKey.values()];
  }

  /**
   * Writes a new value for an item (an input of the node) and holds it if the write succeeds.
   * The item's old hold ends first, at once; a new one starts (with a fresh hold time) only
   * from this write's result, and only if no newer input, stop or write from elsewhere came for
   * the item meanwhile. A value that could not be written is not held, and neither is the old
   * one (it is not what the flow wants any more).
   */
  async input(addr: ItemAddress, lit: JsonLiteral, context: C): Promise<InputOutcome<C>> {
    const key = holdKey(addr);
    this.end(key, 'replaced');
    const mine: Pending = { path: addr.path, service: undefined, overtakenBy: undefined };
    this.inputs.add(mine);
    this.pending.set(key, mine);
    let result: FlowWriteResult;
    try {
      result = await this.hooks.write(addr, lit, { writer: mine });
    } catch (e) {
      result = { ok: false, error: (e as Error).message, source: 'flow' };
    }
    const newest = this.pending.get(key) === mine;
    if (newest) this.pending.delete(key);
    if (mine.overtakenBy) return { result, overtakenBy: mine.overtakenBy };
    if (!newest || !result.ok || this.closed) return { result };
    return { result, hold: this.hold(key, addr, lit, result, context) };
  }

  /**
   * Ends the hold of one item (or of every item when addr is undefined), and keeps an input
   * being written for it from starting one; returns how many items it stopped.
   */
  stop(addr?: ItemAddress): number {
    const keys = addr ? [holdKey(addr)] : [...new Set([...this.holdsByKey.keys(), ...this.pending.keys()])];
    let n = 0;
    for (const key of keys) {
      const held = this.holdsByKey.has(key);
      const writing = this.pending.delete(key);
      this.end(key, 'stopped');
      if (held || writing) n++;
    }
    return n;
  }

  close(): void {
    if (this.closed) return;
    for (const key of [...this.holdsByKey.keys()]) this.end(key, 'closed');
    this.pending.clear();
    this.closed = true;
    this.engine.removeListener('service-gone', this.onServiceGone);
    this.engine.removeListener('state', this.onState);
    this.engine.removeListener('stale', this.onStale);
    this.engine.removeListener('write-queued', this.onQueued);
  }

  private hold(key: string, addr: ItemAddress, lit: JsonLiteral, written: FlowWriteResult, context: C): Hold<C> {
    const now = Date.now();
    const h: Running<C> = {
      key, addr, lit, value: written.value, service: written.service, context, until: now + this.opts.holdMs,
      repeats: 0, failures: 0, lastError: undefined, lastStart: now, timer: undefined, active: true,
    };
    this.repeaters.add(h);
    this.holdsByKey.set(key, h);
    this.schedule(h);
    this.hooks.changed();
    return h;
  }

  /**
   * A write was queued (emitted synchronously, in queue order). One of this keeper's tells an
   * input's service; one from elsewhere to an item held here ends the hold at once, and one to
   * an item an input is being written to keeps that input from being held: the newer value is
   * the one in force.
   */
  private queued(q: QueuedWrite): void {
    if (q.writer && this.inputs.has(q.writer)) {
      (q.writer as Pending).service = q.service;
      return;
    }
    if (q.writer && this.repeaters.has(q.writer)) return;
    for (const p of this.pending.values()) if (p.service === q.service && p.path === q.path) p.overtakenBy = q.origin;
    for (const h of [...this.holdsByKey.values()]) {
      if (h.service === q.service && h.addr.path === q.path) {
        h.takenOverBy = q.origin;
        this.end(h.key, 'taken-over');
      }
    }
  }

  private endWhere(test: (h: Hold<C>) => boolean, reason: StopReason): void {
    for (const h of [...this.holdsByKey.values()]) if (test(h)) this.end(h.key, reason);
  }

  private end(key: string, reason: StopReason): void {
    const h = this.holdsByKey.get(key);
    if (!h) return;
    h.active = false;
    if (h.timer) clearTimeout(h.timer);
    h.timer = undefined;
    this.holdsByKey.delete(key);
    if (reason !== 'replaced' && reason !== 'closed') {
      this.hooks.ended(h, reason);
      this.hooks.changed();
    }
  }

  /** The next repeat, or the end of the hold time if that comes first. */
  private schedule(h: Running<C>): void {
    if (!h.active) return;
    const due = Math.min(h.lastStart + this.opts.repeatMs, h.until);
    h.timer = setTimeout(() => this.tick(h), Math.max(0, due - Date.now()));
  }

  private tick(h: Running<C>): void {
    h.timer = undefined;
    if (!h.active) return;
    const now = Date.now();
    if (now + SLACK_MS >= h.until) {
      this.end(h.key, 'expired');
      return;
    }
    h.lastStart = now;
    this.hooks.write(h.addr, h.lit, { writer: h, onlyIfIdle: true })
      .then((r) => this.repeated(h, r), (e: Error) => this.repeated(h, { ok: false, error: e.message, source: 'flow' }));
  }

  private repeated(h: Running<C>, r: FlowWriteResult): void {
    if (!h.active) return; // ended (or replaced) while the write was under way
    // not written because another write to the item was under way: no repeat, nor a failure
    // (that write ended the hold if it was newer; see queued()); the next one is due as usual
    if (r.skipped || r.superseded) return this.schedule(h);
    h.repeats++;
    this.hooks.repeated(h, r);
    if (r.ok) {
      const recovered = h.failures > 0;
      h.failures = 0;
      h.lastError = undefined;
      if (recovered) this.hooks.changed();
    } else {
      h.failures++;
      h.lastError = r.error;
      if (h.failures === 1) {
        this.hooks.failing(h, r);
        this.hooks.changed();
      }
      if (h.failures >= this.maxFailures) {
        this.end(h.key, 'failed');
        return;
      }
    }
    this.schedule(h);
  }
}
