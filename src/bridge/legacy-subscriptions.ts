// dbus-mqtt's selective keep-alive (spec §7.2, K-P1…K-P6), for legacy mode: subscriptions
// that each live for the keep-alive interval; "all" or topic filters over
// `<type>/<instance>/<path>`; what no live subscription covers any more is unpublished.
import { isValidFilter, topicMatches } from './topics';

export const ALL = '#';

export class LegacySubscriptions {
  /** filter → expiry time (ms since epoch) */
  private readonly subs = new Map<string, number>();

  constructor(private readonly ttlMs: number) {}

  /**
   * Refreshes or adds the filters; returns the ones that are new (K-P2, K-P3).
   * Throws on a payload that is not a valid filter list (the keep-alive is then not refreshed).
   */
  refresh(filters: string[], now = Date.now()): string[] {
    for (const f of filters) {
      if (typeof f !== 'string' || !isValidFilter(f)) throw new Error(`invalid topic filter ${JSON.stringify(f)}`);
    }
    const fresh: string[] = [];
    for (const f of filters) {
      if (!this.subs.has(f)) fresh.push(f);
      this.subs.set(f, now + this.ttlMs);
    }
    return fresh;
  }

  get hasAll(): boolean {
    return this.subs.has(ALL);
  }

  get size(): number {
    return this.subs.size;
  }

  /** Whether a short topic (`<type>/<instance>/<path>`) is covered by a live subscription. */
  matches(shortTopic: string): boolean {
    if (this.subs.has(ALL)) return true;
    for (const f of this.subs.keys()) if (topicMatches(f, shortTopic)) return true;
    return false;
  }

  /** Drops expired subscriptions; returns how many went. */
  expire(now = Date.now()): number {
    let n = 0;
    for (const [f, until] of this.subs) {
      if (until <= now) {
        this.subs.delete(f);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.subs.clear();
  }
}
