// dbus-mqtt's protocol, the legacy option (spec §7.2, N5, N8, S2): everything but read
// replies is retained; keep-alives are subscriptions ("all" or topic filters) that live for the
// keep-alive interval; what no live subscription covers any more is unpublished with an empty
// retained payload; the serial is the bridge's own portal ID.
import { EngineHost, isSerialItem } from './engine-api';
import type { Item, Service } from './item-cache';
import { KeepaliveTiming } from './keepalive';
import { ALL, LegacySubscriptions } from './legacy-subscriptions';
import { NotificationProtocol } from './protocol';

export class LegacyProtocol implements NotificationProtocol {
  readonly mode = 'legacy' as const;
  private readonly subs: LegacySubscriptions;
  /** topics published (retained) so far, to unpublish on expiry (K-P6) */
  private readonly published = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly host: EngineHost, private readonly timing: KeepaliveTiming) {
    this.subs = new LegacySubscriptions(timing.aliveMs);
  }

  get alive(): boolean {
    return this.subs.size > 0;
  }

  /** `<type>/<instance>/<path>` of an N topic, what filters match against (K-P3). */
  private short(topic: string): string {
    return topic.slice(topic.indexOf('/', 2) + 1);
  }

  private publishSerial(): void {
    const portal = this.host.portalId;
    if (portal) this.host.out(`N/${portal}/system/0/Serial`, `{"value":${JSON.stringify(portal)}}`, true); // N8
  }

  publishItem(service: Service, item: Item, readReply: boolean): void {
    const topic = service.topicOf(item);
    if (readReply) return this.host.out(topic, service.payloadOf(item), false); // R8: not retained
    if (isSerialItem(service, item)) return this.publishSerial();
    this.published.add(topic);
    this.host.out(topic, service.payloadOf(item), true);
  }

  publishesChange(service: Service, item: Item): boolean {
    if (!this.host.portalId) return false;
    const topic = service.topicOf(item);
    return this.published.has(topic) || this.subs.matches(this.short(topic));
  }

  serviceScanned(service: Service): void {
    for (const item of service.items.values()) {
      if (this.publishesChange(service, item) || isSerialItem(service, item)) this.host.publishItem(service, item);
    }
  }

  serviceGone(service: Service): void {
    // S2: an empty retained payload for what was published, so the broker forgets it.
    for (const item of service.items.values()) {
      if (service.isBlocked(item) || isSerialItem(service, item)) continue;
      const topic = service.topicOf(item);
      if (this.published.delete(topic)) this.host.out(topic, '', true);
    }
  }

  brokerConnected(): void {
    const portal = this.host.portalId;
    if (!portal) return;
    this.host.out(`N/${portal}/keepalive`, '{"value":1}', true); // K-P7
    this.publishSerial();
  }

  keepalive(payload: string, viaSerial: boolean): 'legacy' | 'invalid' {
    const log = this.host.logger;
    let filters: string[];
    const trimmed = payload.trim();
    if (viaSerial || trimmed === '') {
      filters = [ALL]; // K-P2, K-P4
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(trimmed);
      } catch (e) {
        log.warn(`keep-alive payload is not JSON, not refreshed: ${(e as Error).message}`);
        return 'invalid';
      }
      if (Array.isArray(parsed)) filters = parsed as string[];
      else if (parsed && typeof parsed === 'object' && 'keepalive-options' in parsed) filters = [ALL]; // F-style client
      else {
        log.warn('keep-alive payload must be a JSON list of topic filters; not refreshed');
        return 'invalid';
      }
    }
    let fresh: string[];
    try {
      fresh = this.subs.refresh(filters);
    } catch (e) {
      log.warn(`keep-alive not refreshed: ${(e as Error).message}`);
      return 'invalid';
    }
    if (viaSerial) this.publishSerial();
    if (!this.timer) {
      this.timer = setInterval(() => this.expire(), Math.min(10000, Math.max(100, this.timing.aliveMs / 6)));
    }
    if (fresh.length) {
      this.publishNewlyCovered();
      if (this.subs.size === fresh.length) this.host.emit('alive', true);
    }
    return 'legacy';
  }

  /** What the new filters cover and was not published yet, sorted by topic (K-P2, K-P3). */
  private publishNewlyCovered(): void {
    if (!this.host.portalId) return;
    const todo: Array<[string, Service, Item]> = [];
    for (const service of this.host.cache.services.values()) {
      for (const item of service.items.values()) {
        const topic = service.topicOf(item);
        if (this.published.has(topic) || service.isBlocked(item) || isSerialItem(service, item)) continue;
        if (this.subs.matches(this.short(topic))) todo.push([topic, service, item]);
      }
    }
    todo.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [, s, i] of todo) this.host.publishItem(s, i);
  }

  /** K-P6: expired subscriptions go; what nothing covers any more is unpublished. */
  private expire(): void {
    if (this.subs.expire() === 0) return;
    if (!this.subs.hasAll) {
      for (const topic of [...this.published]) {
        if (this.subs.matches(this.short(topic))) continue;
        this.published.delete(topic);
        this.host.out(topic, '', true);
      }
    }
    if (this.subs.size === 0) {
      if (this.timer) clearInterval(this.timer);
      this.timer = undefined;
      this.host.emit('alive', false);
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
