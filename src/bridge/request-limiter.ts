// Bounds the D-Bus calls that requests cause (venus#1583: clients sending thousands of R per
// second cripple a GX): at most `maxInFlight` at once, at most `maxQueued` waiting, and a
// request for a key that is already waiting shares that call instead of adding another.

export class QueueFullError extends Error {}

interface Waiting<T> {
  key: string;
  fn: () => Promise<T>;
  resolvers: Array<{ resolve: (v: T) => void; reject: (e: Error) => void }>;
}

export class RequestLimiter {
  private inFlight = 0;
  private readonly queue: Array<Waiting<unknown>> = [];
  private readonly waitingByKey = new Map<string, Waiting<unknown>>();
  private closed: Error | undefined;

  constructor(private readonly maxInFlight: number, private readonly maxQueued: number) {}

  get pending(): number {
    return this.inFlight + this.queue.length;
  }

  get active(): number {
    return this.inFlight;
  }

  /** No more calls can wait. */
  get full(): boolean {
    return this.queue.length >= this.maxQueued;
  }

  /** A call for this key is queued and has not started yet. */
  isWaiting(key: string): boolean {
    return this.waitingByKey.has(key);
  }

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise<T>((resolve, reject) => {
      const same = this.waitingByKey.get(key) as Waiting<T> | undefined;
      if (same) {
        same.resolvers.push({ resolve, reject });
        return;
      }
      if (this.queue.length >= this.maxQueued) {
        reject(new QueueFullError(`too many requests waiting (${this.maxQueued}); request dropped`));
        return;
      }
      const w: Waiting<T> = { key, fn, resolvers: [{ resolve, reject }] };
      this.queue.push(w as Waiting<unknown>);
      this.waitingByKey.set(key, w as Waiting<unknown>);
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length) {
      const w = this.queue.shift()!;
      this.waitingByKey.delete(w.key);
      this.inFlight++;
      let p: Promise<unknown>;
      try {
        p = w.fn();
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then(
        (v) => w.resolvers.forEach((r) => r.resolve(v)),
        (e: Error) => w.resolvers.forEach((r) => r.reject(e)),
      ).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  close(err: Error): void {
    this.closed = err;
    for (const w of this.queue.splice(0)) w.resolvers.forEach((r) => r.reject(err));
    this.waitingByKey.clear();
  }
}
