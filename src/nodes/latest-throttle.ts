// At most one delivery per key per window, the newest value winning: the first value of a key
// goes out at once and opens the key's window; values arriving inside the window replace one
// another, and the last of them goes out when the window ends (which opens the next window).
// A window that ends with nothing held is forgotten. One timer serves every key, and it runs
// only while some key has an open window: an idle throttle holds no timer and no entries.
//
// Windows are kept in a Map in the order they were opened; each lasts the same time, so they
// also end in that order and the timer only ever looks at the front (O(1) per value).

interface Window<V> {
  until: number;
  held: V | undefined;
  holding: boolean;
}

/** The timer fires up to this much early or late; windows ending within it end together. */
const SLACK_MS = 1;

export class LatestThrottle<K, V> {
  private readonly windows = new Map<K, Window<V>>();
  private timer: NodeJS.Timeout | undefined = undefined;
  private closed = false;

  constructor(private readonly windowMs: number, private readonly deliver: (value: V, key: K) => void) {
    if (!(windowMs > 0)) throw new Error(`the throttle window must be a positive number of milliseconds, not ${windowMs}`);
  }

  /** A new value for key: delivered now, or held (replacing what was held) until its window ends. */
  push(key: K, value: V): void {
    if (this.closed) return;
    const w = this.windows.get(key);
    if (w) {
      w.held = value;
      w.holding = true;
      return;
    }
    this.open(key);
    this.deliver(value, key);
  }

  /** Whether key has an open window (a value pushed now would be held). */
  isOpen(key: K): boolean {
    return this.windows.has(key);
  }

  /** Keys with an open window (for tests: bounded by the keys active within one window). */
  get size(): number {
    return this.windows.size;
  }

  get timerArmed(): boolean {
    return this.timer !== undefined;
  }

  /** Drops every window and what it holds, and the timer. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.windows.clear();
  }

  private open(key: K): void {
    this.windows.set(key, { until: performance.now() + this.windowMs, held: undefined, holding: false });
    if (!this.timer) this.arm();
  }

  private arm(): void {
    const first = this.windows.values().next();
    if (first.done) return;
    this.timer = setTimeout(() => this.tick(), Math.max(0, first.value.until - performance.now()));
  }

  private tick(): void {
    this.timer = undefined;
    const now = performance.now() + SLACK_MS;
    const due: Array<[K, V]> = [];
    for (const [key, w] of this.windows) {
      if (w.until > now) break;
      this.windows.delete(key);
      if (w.holding) due.push([key, w.held as V]);
    }
    // deliver after the sweep: a delivery opens a new window at the back of the Map
    for (const [key, value] of due) {
      if (this.closed) return;
      this.open(key);
      this.deliver(value, key);
    }
    if (!this.timer && !this.closed) this.arm();
  }
}
