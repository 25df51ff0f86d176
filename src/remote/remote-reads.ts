// Reads from a remote GX (spec R1–R5): `R/<portal>/<type>/<instance><path>` is answered by
// notifications, never by a reply of its own. A known item answers on its own topic. A sub-tree
// (or `/`, the whole service) answers one notification per item under it (R3, R5), with no end
// marker, so the read asks for a quiet item of the same service right after it: the GX answers
// a service's reads in order, so that item's notification closes the sub-tree. Where the
// service has none, the sub-tree ends when nothing more came for a moment. A path that is
// neither gets no answer at all (R4): the read times out and says so.
import type { TypedValue } from '../bridge/typed-value';

export interface RemoteReadTiming {
  /** a read with no (complete) answer fails after this long */
  readTimeoutMs: number;
  /** a sub-tree without a closing item ends this long after its last notification */
  subTreeSettleMs: number;
}

export const REMOTE_READ_TIMING: RemoteReadTiming = { readTimeoutMs: 5000, subTreeSettleMs: 150 };

/** Items that rarely change, to close a sub-tree read (tried in this order). */
const CLOSING_ITEMS = ['/DeviceInstance', '/ProductId', '/Mgmt/ProcessName', '/Mgmt/ProcessVersion', '/ProductName',
  '/FirmwareVersion', '/Mgmt/Connection', '/Serial', '/CustomName', '/Connected'];

const MAX_WAITING = 1000;

export class RemoteReadError extends Error {}

interface LeafRead {
  waiters: Array<{ resolve: (v: TypedValue) => void; reject: (e: Error) => void }>;
  timer: NodeJS.Timeout;
}

interface TreeRead {
  service: string;
  /** '/' or '/Dc' */
  base: string;
  entries: Map<string, TypedValue>;
  closing?: string;
  resolve: (v: TypedValue) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  settle?: NodeJS.Timeout;
  what: string;
}

export class RemoteReads {
  private readonly leaves = new Map<string, LeafRead>();
  private readonly trees = new Set<TreeRead>();

  constructor(private readonly timing: RemoteReadTiming) {}

  /** some read is waiting for its answer */
  get busy(): boolean {
    return this.leaves.size > 0 || this.trees.size > 0;
  }

  private get waiting(): number {
    let n = this.trees.size;
    for (const l of this.leaves.values()) n += l.waiters.length;
    return n;
  }

  /**
   * Reads a known item: `request()` publishes the R (once for every read of it waiting).
   * `what` names it in errors.
   */
  leaf(service: string, path: string, what: string, request: () => void): Promise<TypedValue> {
    if (this.waiting >= MAX_WAITING) return Promise.reject(new RemoteReadError(`too many reads waiting for the GX (${MAX_WAITING})`));
    return new Promise<TypedValue>((resolve, reject) => {
      const key = service + '\n' + path;
      const pending = this.leaves.get(key);
      if (pending) {
        pending.waiters.push({ resolve, reject });
        return;
      }
      const timer = setTimeout(() => {
        const l = this.leaves.get(key);
        this.leaves.delete(key);
        const err = new RemoteReadError(`no answer from the GX for ${what} within ${this.timing.readTimeoutMs} ms`);
        for (const w of l?.waiters ?? []) w.reject(err);
      }, this.timing.readTimeoutMs);
      this.leaves.set(key, { waiters: [{ resolve, reject }], timer });
      request();
    });
  }

  /**
   * Reads a sub-tree (`base` not an item; '/' = the whole service). `known` are the service's
   * item paths, to pick a closing item; `request(path)` publishes an R.
   */
  tree(service: string, base: string, known: Iterable<string>, what: string, request: (path: string) => void): Promise<TypedValue> {
    if (this.waiting >= MAX_WAITING) return Promise.reject(new RemoteReadError(`too many reads waiting for the GX (${MAX_WAITING})`));
    const knownSet = new Set(known);
    const closing = CLOSING_ITEMS.find((p) => knownSet.has(p) && !isUnder(p, base));
    return new Promise<TypedValue>((resolve, reject) => {
      const t: TreeRead = {
        service, base, entries: new Map(), closing, resolve, reject, what,
        timer: setTimeout(() => this.finishTree(t, true), this.timing.readTimeoutMs),
      };
      this.trees.add(t);
      request(base);
      if (closing) request(closing);
    });
  }

  /**
   * A notification arrived. Returns true when a read takes it as its answer: the caller then
   * records it without reporting it as a change (the engine gets it as the read's result).
   */
  offer(service: string, path: string, value: TypedValue): boolean {
    let taken = false;
    if (this.trees.size) {
      for (const t of this.trees) {
        if (t.service !== service) continue;
        if (isUnder(path, t.base)) {
          t.entries.set(relative(path, t.base), value);
          taken = true;
          if (t.settle) clearTimeout(t.settle);
          t.settle = setTimeout(() => this.finishTree(t, false), this.timing.subTreeSettleMs);
        } else if (path === t.closing) {
          this.finishTree(t, false);
        }
      }
    }
    if (this.leaves.size) {
      const key = service + '\n' + path;
      const l = this.leaves.get(key);
      if (l) {
        this.leaves.delete(key);
        clearTimeout(l.timer);
        for (const w of l.waiters) w.resolve(value);
        taken = true;
      }
    }
    return taken;
  }

  private finishTree(t: TreeRead, timedOut: boolean): void {
    if (!this.trees.delete(t)) return;
    clearTimeout(t.timer);
    if (t.settle) clearTimeout(t.settle);
    if (t.entries.size === 0) {
      t.reject(new RemoteReadError(timedOut
        ? `no answer from the GX for ${t.what} within ${this.timing.readTimeoutMs} ms: the GX answers nothing for a path that is neither a known item nor a sub-tree (R4)`
        : `${t.what} is neither a known item nor a sub-tree: the GX answered nothing for it (R4)`));
      return;
    }
    // as velib answers GetValue on a sub-tree: relative path → value
    t.resolve({ signature: 'a{sv}', value: Object.fromEntries(t.entries) });
  }

  /** Every read fails (connection lost, source stopped). */
  failAll(err: Error): void {
    for (const l of this.leaves.values()) {
      clearTimeout(l.timer);
      for (const w of l.waiters) w.reject(err);
    }
    this.leaves.clear();
    for (const t of this.trees) {
      clearTimeout(t.timer);
      if (t.settle) clearTimeout(t.settle);
      t.reject(err);
    }
    this.trees.clear();
  }
}

function isUnder(path: string, base: string): boolean {
  return base === '/' ? true : path.startsWith(base + '/');
}

function relative(path: string, base: string): string {
  return base === '/' ? path.slice(1) : path.slice(base.length + 1);
}
