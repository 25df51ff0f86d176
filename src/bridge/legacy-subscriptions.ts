// dbus-mqtt's selective keep-alive (spec §7.2, K-P1…K-P6), for legacy mode: subscriptions
// that each live for the keep-alive interval; "all" (an empty keep-alive or a serial read) or
// topic filters over `<type>/<instance>/<path>`. A filter "#" is a filter like any other, not
// "all": dbus-mqtt keeps the two apart (its WildcardTopic), and only a new "all" republishes
// everything (K-P2). Filters without wildcards are looked up directly (dbus-mqtt's ExactTopic).
import { MAX_LEGACY_SUBSCRIPTIONS } from './request-limits';
import { isValidFilter, topicMatches } from './topics';

export class LegacySubscriptions {
  /** expiry time (ms since epoch) of "all", or undefined */
  private allUntil: number | undefined;
  /** filter without wildcards → expiry time */
  private readonly exact = new Map<string, number>();
  /** filter with `+` or `#` → expiry time */
  private readonly wild = new Map<string, number>();

  constructor(private readonly ttlMs: number, private readonly maxFilters = MAX_LEGACY_SUBSCRIPTIONS) {}

  /** Subscribes to everything; true when "all" was not active before. */
  subscribeAll(now = Date.now()): boolean {
    const fresh = this.allUntil === undefined;
    this.allUntil = now + this.ttlMs;
    return fresh;
  }

  /**
   * Refreshes or adds the filters; returns the ones that are new (K-P3). Throws, refreshing
   * nothing, on a list that is not all valid filters or would go over the limit.
   */
  subscribe(filters: unknown[], now = Date.now()): string[] {
    for (const f of filters) {
      if (typeof f !== 'string' || !isValidFilter(f)) throw new Error(`invalid topic filter ${JSON.stringify(f)?.slice(0, 100)}`);
    }
    const fresh = [...new Set(filters as string[])].filter((f) => !this.exact.has(f) && !this.wild.has(f));
    if (this.exact.size + this.wild.size + fresh.length > this.maxFilters) {
      throw new Error(`${fresh.length} new topic filters would make more than ${this.maxFilters} live ones`);
    }
    for (const f of filters as string[]) (/[+#]/.test(f) ? this.wild : this.exact).set(f, now + this.ttlMs);
    return fresh;
  }

  get hasAll(): boolean {
    return this.allUntil !== undefined;
  }

  /** live subscriptions, "all" counting as one */
  get size(): number {
    return (this.allUntil !== undefined ? 1 : 0) + this.exact.size + this.wild.size;
  }

  /** Whether a short topic (`<type>/<instance>/<path>`) is covered by a live subscription. */
  matches(shortTopic: string): boolean {
    if (this.allUntil !== undefined || this.exact.has(shortTopic)) return true;
    for (const f of this.wild.keys()) if (topicMatches(f, shortTopic)) return true;
    return false;
  }

  /** Drops expired subscriptions; returns how many went. */
  expire(now = Date.now()): number {
    let n = 0;
    if (this.allUntil !== undefined && this.allUntil <= now) {
      this.allUntil = undefined;
      n++;
    }
    for (const m of [this.exact, this.wild]) {
      for (const [f, until] of m) {
        if (until <= now) {
          m.delete(f);
          n++;
        }
      }
    }
    return n;
  }

  clear(): void {
    this.allUntil = undefined;
    this.exact.clear();
    this.wild.clear();
  }
}
