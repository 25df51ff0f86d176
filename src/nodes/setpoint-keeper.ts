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
// Every repeat goes through the same write path as any write (policy, type, min/max, limits).
import type { GxEngine } from '../bridge/engine';
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

export type StopReason = 'stopped' | 'expired' | 'failed' | 'service-gone' | 'gx-gone' | 'closed' | 'replaced';

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
}

export interface KeeperHooks<C> {
  /** one write of the held value, through the node's write path */
  write(addr: ItemAddress, lit: JsonLiteral): Promise<FlowWriteResult>;
  /** every repeat's result */
  repeated(hold: Hold<C>, result: FlowWriteResult): void;
  /** the first failed repeat of a run of failures (reported once, not every repeat) */
  failing(hold: Hold<C>, result: FlowWriteResult): void;
  /** a hold ended (not called for 'replaced' and 'closed') */
  ended(hold: Hold<C>, reason: StopReason): void;
  /** the set of holds or their state changed (for the node's status) */
  changed(): void;
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
  private readonly maxFailures: number;
  private closed = false;
  // the engine drops every service when the source disconnects: that is the GX going away
  private readonly onServiceGone = (s: Service) =>
    this.endWhere((h) => h.service === s.name, this.engine.sourceState === 'connected' ? 'service-gone' : 'gx-gone');
  private readonly onState = (state: string) => { if (state !== 'connected') this.endWhere(() => true, 'gx-gone'); };
  private readonly onStale = (stale: boolean) => { if (stale) this.endWhere(() => true, 'gx-gone'); };

  constructor(private readonly engine: GxEngine, readonly opts: KeeperOptions, private readonly hooks: KeeperHooks<C>) {
    if (!(opts.repeatMs > 0) || !(opts.holdMs >= opts.repeatMs)) {
      throw new Error(`repeat every ${opts.repeatMs / 1000} s for at most ${opts.holdMs / 1000} s: both must be positive, the hold time at least the interval`);
    }
    this.maxFailures = Math.max(1, opts.maxFailures ?? 3);
    engine.on('service-gone', this.onServiceGone);
    engine.on('state', this.onState);
    engine.on('stale', this.onStale);
  }

  get holds(): Hold<C>[] {
    return [...this.holdsByKey.values()];
  }

  /** Starts (or restarts, with a fresh hold time) holding a value that was just written. */
  hold(addr: ItemAddress, lit: JsonLiteral, written: FlowWriteResult, context: C): Hold<C> | undefined {
    if (this.closed) return undefined;
    const key = holdKey(addr);
    this.end(key, 'replaced');
    const now = Date.now();
    const h: Running<C> = {
      key, addr, lit, value: written.value, service: written.service, context, until: now + this.opts.holdMs,
      repeats: 0, failures: 0, lastError: undefined, lastStart: now, timer: undefined, active: true,
    };
    this.holdsByKey.set(key, h);
    this.schedule(h);
    this.hooks.changed();
    return h;
  }

  /** Ends the hold of one item (or of every item when addr is undefined); returns the holds ended. */
  stop(addr?: ItemAddress): Hold<C>[] {
    const ended = addr ? [this.holdsByKey.get(holdKey(addr))].filter((h): h is Running<C> => !!h) : [...this.holdsByKey.values()];
    for (const h of ended) this.end(h.key, 'stopped');
    return ended;
  }

  /** Ends the hold of an item quietly (its new value could not be written: it is reported as such). */
  drop(addr: ItemAddress): void {
    this.end(holdKey(addr), 'replaced');
  }

  close(): void {
    if (this.closed) return;
    for (const key of [...this.holdsByKey.keys()]) this.end(key, 'closed');
    this.closed = true;
    this.engine.removeListener('service-gone', this.onServiceGone);
    this.engine.removeListener('state', this.onState);
    this.engine.removeListener('stale', this.onStale);
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
    this.hooks.write(h.addr, h.lit).then((r) => this.repeated(h, r), (e: Error) => this.repeated(h, { ok: false, error: e.message, source: 'flow' }));
  }

  private repeated(h: Running<C>, r: FlowWriteResult): void {
    if (!h.active) return; // ended (or replaced) while the write was under way
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
