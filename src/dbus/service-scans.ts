// Every `com.victronenergy.*` name with its current owner and that owner's scan. What it
// promises the engine, whatever a service does:
// - a name without an owner is gone at once, its scan pending or not (issue 14 #4);
// - after an owner change the name's items are exactly the new owner's (the engine replaces
//   them when the new scan is in); topics both owners have are never emptied in between;
// - a scan that fails is retried with backoff until it answers or the name leaves (#7);
// - what was signalled before a scan was in wins over its reply, kept bounded (#5, #6);
// - a superseded scan gives its slot up at once, its late answer goes nowhere.
import * as dbus from 'dbus-next';
import type { SourceItem } from '../bridge/item-source';
import { CallOptions, DbusError, NO_REPLY } from './bus-calls';
import { PendingBudget, PendingChanges } from './pending-changes';
import { scanService } from './scan';

type Msg = InstanceType<typeof dbus.Message>;
type Level = 'debug' | 'info' | 'warn' | 'error';

export interface ScanOptions {
  /** timeout of a scan call; doubled after a timeout, up to 4× */
  scanTimeoutMs: number;
  /** retry of a failed scan: first and largest delay (doubling) */
  scanRetryMinMs: number;
  scanRetryMaxMs: number;
  maxParallelScans: number;
  maxPendingPathsPerService: number;
  maxPendingPaths: number;
}

/** What the scans need from the tracker: calls on a service, and where to report. */
export interface ScanHost {
  callItem(service: string, path: string, member: string, opts: Omit<CallOptions, 'peer'>, iface?: string): Promise<Msg>;
  /** `service` (name, items) or `service-gone` (name), as the ItemSource port has them */
  report(event: 'service' | 'service-gone', name: string, items?: SourceItem[]): void;
  /** `changes` (name, items) */
  changes(name: string, items: SourceItem[]): void;
  log(level: Level, text: string): void;
}

interface Tracked {
  name: string;
  owner: string;
  status: 'queued' | 'scanning' | 'ready' | 'waiting';
  /** the engine holds items under this name, this owner's or the previous owner's */
  announced: boolean;
  /** changes signalled before the scan is in */
  pending: PendingChanges;
  /** cancels this owner's scan calls when the name changes owner or goes */
  abort: AbortController;
  attempts: number;
  timeouts: number;
  retryTimer: NodeJS.Timeout | undefined;
  /** resolves the promise of the first scan attempt (the initial scan waits for it) */
  firstAttempt: (() => void) | undefined;
}

/** Names remembered for their logged failures; forgotten in bulk past this many. */
const MAX_REMEMBERED = 1024;
const MAX_REASONS_PER_NAME = 8;

export class ServiceScans {
  private readonly names = new Map<string, Tracked>();
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly queue = new Set<Tracked>();
  private readonly scanning = new Set<Tracked>();
  private readonly budget: PendingBudget;
  /** scan failures logged, per name: one line per distinct reason, not one per retry */
  private readonly failuresLogged = new Map<string, Set<string>>();
  private closed = false;

  constructor(private readonly host: ScanHost, private readonly opts: ScanOptions) {
    this.budget = { used: 0, max: opts.maxPendingPaths };
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  ownerOf(name: string): string | undefined {
    return this.names.get(name)?.owner;
  }

  /** Names of the services whose scan has completed. */
  get readyNames(): string[] {
    return [...this.names.values()].filter((t) => t.status === 'ready').map((t) => t.name);
  }

  get stats(): { names: number; owners: number; queued: number; scanning: number; waiting: number; pendingPaths: number } {
    return {
      names: this.names.size,
      owners: this.byOwner.size,
      queued: this.queue.size,
      scanning: this.scanning.size,
      waiting: [...this.names.values()].filter((t) => t.status === 'waiting').length,
      pendingPaths: this.budget.used,
    };
  }

  /**
   * A name got an owner: new, or another one (D4). The old owner's scan is cancelled; what the
   * engine holds for the name stays until the new owner's first scan attempt is over.
   * Resolves after that first attempt.
   */
  appeared(name: string, owner: string): Promise<void> {
    const old = this.names.get(name);
    if (old?.owner === owner) return Promise.resolve();
    if (old) this.retire(old);
    const t: Tracked = {
      name, owner, status: 'queued', announced: old?.announced ?? false,
      pending: new PendingChanges(this.budget, this.opts.maxPendingPathsPerService),
      abort: new AbortController(), attempts: 0, timeouts: 0, retryTimer: undefined, firstAttempt: undefined,
    };
    this.names.set(name, t);
    let names = this.byOwner.get(owner);
    if (!names) this.byOwner.set(owner, names = new Set());
    names.add(name);
    return new Promise<void>((resolve) => {
      t.firstAttempt = resolve;
      this.enqueue(t);
    });
  }

  /** A name lost its owner: gone at once, whatever its scan was doing (S1, issue 14 #4). */
  gone(name: string): void {
    const t = this.names.get(name);
    if (!t) return;
    this.names.delete(name);
    this.retire(t);
    this.failuresLogged.delete(name);
    if (t.announced) this.host.report('service-gone', name);
  }

  /** Whether `owner` (a unique name) owns one of our names. */
  owns(owner: string): boolean {
    return this.byOwner.has(owner);
  }

  /** Changes signalled by `owner`: to each of its names, or kept until its scan is in (D14). */
  changed(owner: string, items: SourceItem[]): void {
    const names = this.byOwner.get(owner);
    if (!names) return;
    for (const name of names) {
      const t = this.names.get(name)!;
      if (t.status === 'ready') this.host.changes(name, items);
      else t.pending.add(items);
    }
  }

  /** The connection went: everything stops, nothing is reported (the tracker says disconnected). */
  close(): void {
    this.closed = true;
    for (const t of this.names.values()) this.retire(t);
    this.names.clear();
    this.byOwner.clear();
    this.queue.clear();
    this.scanning.clear();
  }

  /** Ends everything one owner of a name had running: its scan calls, its retry, its queue entry. */
  private retire(t: Tracked): void {
    t.abort.abort();
    if (t.retryTimer) clearTimeout(t.retryTimer);
    t.retryTimer = undefined;
    this.queue.delete(t);
    this.scanning.delete(t);
    t.pending.clear();
    const names = this.byOwner.get(t.owner);
    names?.delete(t.name);
    if (names && names.size === 0) this.byOwner.delete(t.owner);
    this.settleFirst(t);
  }

  private current(t: Tracked): boolean {
    return !this.closed && this.names.get(t.name) === t;
  }

  private settleFirst(t: Tracked): void {
    const done = t.firstAttempt;
    t.firstAttempt = undefined;
    done?.();
  }

  // at most maxParallelScans at once, one per name

  private enqueue(t: Tracked): void {
    t.status = 'queued';
    this.queue.add(t);
    this.pump();
  }

  private pump(): void {
    while (this.scanning.size < this.opts.maxParallelScans) {
      const next = this.queue.values().next();
      if (next.done) return;
      const t = next.value;
      this.queue.delete(t);
      if (!this.current(t)) continue;
      this.scanning.add(t);
      void this.scan(t).finally(() => {
        this.scanning.delete(t);
        this.pump();
      });
    }
  }

  private async scan(t: Tracked): Promise<void> {
    t.status = 'scanning';
    t.attempts++;
    const opts = { timeoutMs: this.opts.scanTimeoutMs * Math.pow(2, Math.min(t.timeouts, 2)), signal: t.abort.signal };
    let items: SourceItem[];
    try {
      items = await scanService((path, member, iface) => this.host.callItem(t.name, path, member, opts, iface),
        t.name, (level, text) => this.host.log(level, text));
    } catch (e) {
      if (this.current(t)) this.failed(t, e as Error);
      return;
    }
    if (!this.current(t)) return; // its owner changed or left meanwhile: the answer is void
    t.status = 'ready';
    t.announced = true;
    if (t.attempts > 1 || t.pending.dropped > 0) {
      const dropped = t.pending.dropped ? `; ${t.pending.dropped} changes of paths beyond the bound were dropped while it was pending` : '';
      this.host.log('info', `scan of ${t.name} answered${t.attempts > 1 ? ` at attempt ${t.attempts}` : ''}${dropped}`);
    }
    this.failuresLogged.delete(t.name);
    this.host.report('service', t.name, t.pending.applyTo(items));
    this.settleFirst(t);
  }

  /**
   * Retried with backoff until the service answers or leaves (issue 14 #7; dbus-flashmq never
   * retries, D7). An old owner's items do not wait for that: they go now. Logged once per
   * distinct reason, not once per retry.
   */
  private failed(t: Tracked, e: Error): void {
    const reason = e instanceof DbusError ? e.errorName : e.name;
    if (reason === NO_REPLY) t.timeouts++;
    const delay = Math.min(this.opts.scanRetryMaxMs, this.opts.scanRetryMinMs * Math.pow(2, t.attempts - 1));
    let logged = this.failuresLogged.get(t.name);
    if (!logged) {
      if (this.failuresLogged.size >= MAX_REMEMBERED) this.failuresLogged.clear();
      this.failuresLogged.set(t.name, logged = new Set());
    }
    if (!logged.has(reason) && logged.size < MAX_REASONS_PER_NAME) {
      logged.add(reason);
      this.host.log('error', `scan of ${t.name} failed: ${brief(e.message)}; retrying in ${delay / 1000} s, then less and less often ` +
        `(up to every ${this.opts.scanRetryMaxMs / 1000} s) until it answers or leaves the bus`);
    }
    if (t.announced) {
      t.announced = false;
      this.host.report('service-gone', t.name); // the previous owner's items must not stand for this one
    }
    t.status = 'waiting';
    t.retryTimer = setTimeout(() => {
      t.retryTimer = undefined;
      if (this.current(t)) this.enqueue(t);
    }, delay);
    this.settleFirst(t);
  }
}

/** A service's error text for a log line: one line, not too long (the service chose it). */
export function brief(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? line.slice(0, 300) + '…' : line;
}
