// Bounds the SetValue calls that writes cause, like reads are bounded (request-limiter.ts):
// a few calls in flight, a bounded number of items waiting. Per item there is at most one
// call in flight and one write waiting; a newer write to an item replaces the one waiting for
// it, which then ends as superseded. So the order per item is kept (a later write is never
// overtaken by an earlier one), a flood of writes to one item costs a few calls, and the value
// left on the bus is the last one requested. A write that must never come after a newer one
// (the setpoint keeper's repeats, src/nodes/setpoint-keeper.ts) asks busy() first and is not
// queued at all while its item has a write in flight or waiting.

export class WriteQueueFullError extends Error {}

/** How a queued write ended: it ran (with its result or error), or a newer one replaced it. */
export type QueuedOutcome<T> = { ran: true; value: T } | { ran: false; superseded: true };

interface Waiting<T> {
  key: string;
  fn: () => Promise<T>;
  resolve: (o: QueuedOutcome<T>) => void;
  reject: (e: Error) => void;
}

export class WriteQueue<T> {
  private inFlight = 0;
  /** keys with a call in flight */
  private readonly running = new Set<string>();
  /** keys waiting, in the order they first came (a newer write keeps its item's place) */
  private readonly waiting = new Map<string, Waiting<T>>();
  private closed: Error | undefined;

  constructor(private readonly maxInFlight: number, private readonly maxWaiting: number) {}

  /** SetValue calls in flight now */
  get active(): number {
    return this.inFlight;
  }

  get queued(): number {
    return this.waiting.size;
  }

  /** Whether `key` has a call in flight or a write waiting. */
  busy(key: string): boolean {
    return this.running.has(key) || this.waiting.has(key);
  }

  /**
   * Runs `fn` for `key` when its turn comes. Call it synchronously in request order: a later
   * call for the same key supersedes an earlier one that is still waiting.
   */
  run(key: string, fn: () => Promise<T>): Promise<QueuedOutcome<T>> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      const older = this.waiting.get(key);
      if (older) {
        older.resolve({ ran: false, superseded: true });
        this.waiting.set(key, { key, fn, resolve, reject }); // Map.set keeps the key's place
        return;
      }
      if (this.waiting.size >= this.maxWaiting) {
        reject(new WriteQueueFullError(`too many writes waiting (${this.maxWaiting} items); write dropped`));
        return;
      }
      this.waiting.set(key, { key, fn, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.inFlight >= this.maxInFlight) return;
    for (const w of this.waiting.values()) {
      if (this.inFlight >= this.maxInFlight) break;
      if (this.running.has(w.key)) continue; // its item is busy: it waits for that call
      this.waiting.delete(w.key);
      this.start(w);
    }
  }

  private start(w: Waiting<T>): void {
    this.inFlight++;
    this.running.add(w.key);
    let p: Promise<T>;
    try {
      p = w.fn();
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then((value) => w.resolve({ ran: true, value }), (e: Error) => w.reject(e)).finally(() => {
      this.inFlight--;
      this.running.delete(w.key);
      if (!this.closed) this.pump();
    });
  }

  close(err: Error): void {
    this.closed = err;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}
