// dbus-mqtt's protocol, the legacy option (spec §7.2, N3, N5, N8, S2, R8, R9, K-P1…K-P9), kept
// to what dbus-mqtt v1.36 sends, byte for byte: its payload text (legacy-payload.ts), every
// notification retained, read replies not retained and raw, keep-alives as subscriptions that
// live for the keep-alive interval, and empty retained payloads for what is no longer covered.
// Where dbus-mqtt was unsafe we stay safe: masked secrets, no blocked paths in sub-tree replies.
import { EngineHost, isSerialItem } from './engine-api';
import { isBlockedPath, Item, Service } from './item-cache';
import { KeepaliveTiming } from './keepalive';
import { legacyPayload } from './legacy-payload';
import { LegacySubscriptions } from './legacy-subscriptions';
import { logText } from './log-text';
import { isMaskedSetting } from './payload';
import { NotificationProtocol } from './protocol';
import { MAX_KEEPALIVE_FILTERS } from './request-limits';
import { joinPath, unwrapVariant } from './sub-tree';
import { topicMatches } from './topics';
import { firstType, memberTypes, TypedValue } from './typed-value';

/** A sub-tree read's reply, kept under the sub-tree's own topic as dbus-mqtt keeps it (R9). */
interface SubTreeTopic {
  service: Service;
  path: string;
  value: TypedValue;
}

export class LegacyProtocol implements NotificationProtocol {
  readonly mode = 'legacy' as const;
  /** `R/<portal>/system/0/Serial` is a keep-alive only: no read reply besides it (K-P4) */
  readonly readsSerialKeepalive = false;
  private readonly subs: LegacySubscriptions;
  /** topics published (retained) so far: what a change keeps publishing (K-P5) and expiry empties (K-P6) */
  private readonly published = new Set<string>();
  private readonly subTrees = new Map<string, SubTreeTopic>();
  private readonly payloads = new WeakMap<Item, { sig: string; value: unknown; payload: string }>();
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

  private serialTopic(): string | undefined {
    const portal = this.host.portalId;
    return portal ? `N/${portal}/system/0/Serial` : undefined;
  }

  /** N8: the bridge's own portal ID, retained. */
  private publishSerial(): void {
    const topic = this.serialTopic();
    if (topic) this.host.out(topic, legacyPayload({ signature: 's', value: this.host.portalId }, 'unwrapped'), true);
  }

  /** The notification payload of an item (N3), built once per value. */
  private payloadOf(service: Service, item: Item): string {
    const c = this.payloads.get(item);
    if (c && c.sig === item.sig && c.value === item.value) return c.payload;
    const payload = legacyPayload(item.typed, 'unwrapped', isMaskedSetting(service.type, item.path));
    this.payloads.set(item, { sig: item.sig, value: item.value, payload });
    return payload;
  }

  publishItem(service: Service, item: Item): void {
    this.published.add(service.topicOf(item));
    if (isSerialItem(service, item)) return this.publishSerial();
    this.host.out(service.topicOf(item), this.payloadOf(service, item), true);
  }

  private publishSubTree(topic: string, st: SubTreeTopic): void {
    this.published.add(topic);
    this.host.out(topic, legacyPayload(forClients(st.service, st.path, st.value), 'unwrapped'), true);
  }

  /** K-P5: published before, or covered by a live subscription. */
  private covered(topic: string): boolean {
    return this.published.has(topic) || this.subs.matches(this.short(topic));
  }

  publishesChange(service: Service, item: Item): boolean {
    return !!this.host.portalId && this.covered(service.topicOf(item));
  }

  serviceScanned(service: Service): void {
    for (const item of service.items.values()) {
      if (this.publishesChange(service, item)) this.host.publishItem(service, item);
    }
  }

  serviceGone(service: Service): void {
    // S2: dbus-mqtt empties every topic of the service, published or not, the serial excepted.
    for (const item of service.items.values()) {
      if (service.isBlocked(item) || isSerialItem(service, item)) continue;
      const topic = service.topicOf(item);
      this.published.delete(topic);
      this.host.out(topic, '', true);
    }
    for (const [topic, st] of this.subTrees) {
      if (st.service !== service) continue;
      this.subTrees.delete(topic);
      this.published.delete(topic);
      this.host.out(topic, '', true);
    }
  }

  /** K-P7: the marker, the serial, then what live subscriptions cover (values may have changed meanwhile). */
  brokerConnected(): void {
    const portal = this.host.portalId;
    if (!portal) return;
    this.host.out(`N/${portal}/keepalive`, '{"value": 1}', true);
    this.publishSerial();
    this.publishAll(true);
  }

  keepalive(payload: string, viaSerial: boolean): 'legacy' | 'invalid' {
    const log = this.host.logger;
    const wasAlive = this.alive;
    if (viaSerial) {
      this.publishSerial(); // K-P4, N8
      if (this.subs.subscribeAll()) this.publishAll(true);
    } else if (payload.trim() === '') {
      if (this.subs.subscribeAll()) this.publishAll(); // K-P2: a repeated "all" republishes nothing
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(payload);
      } catch (e) {
        log.warn(`keep-alive payload is not JSON, not refreshed: ${logText((e as Error).message)}`);
        return 'invalid';
      }
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && 'keepalive-options' in parsed) {
        // a dbus-flashmq client: dbus-mqtt would take the key as a filter and send nothing (K-P3)
        if (this.subs.subscribeAll()) this.publishAll();
      } else if (Array.isArray(parsed)) {
        if (parsed.length > MAX_KEEPALIVE_FILTERS) {
          log.warn(`keep-alive with ${parsed.length} topic filters, more than ${MAX_KEEPALIVE_FILTERS}: not refreshed`);
          return 'invalid';
        }
        let fresh: string[];
        try {
          fresh = this.subs.subscribe(parsed);
        } catch (e) {
          log.warn(`keep-alive not refreshed: ${logText((e as Error).message)}`);
          return 'invalid';
        }
        if (fresh.length) this.publishNew(fresh);
      } else {
        log.warn('keep-alive payload must be a JSON list of topic filters; not refreshed');
        return 'invalid';
      }
    }
    if (!this.timer && this.alive) {
      this.timer = setInterval(() => this.expire(), Math.min(10000, Math.max(100, this.timing.aliveMs / 6)));
    }
    if (!wasAlive && this.alive) this.host.emit('alive', true);
    return 'legacy';
  }

  /**
   * A read answered as dbus-mqtt answers it (R8, R9): the D-Bus reply as it came, at once, not
   * retained, on the topic of the path read. A sub-tree is one object on the sub-tree's topic,
   * kept for later full publishes.
   */
  readReply(service: Service, path: string, value: TypedValue, item: Item | undefined): void {
    if (!this.host.portalId || isBlockedPath(service.type, path)) return;
    const topic = service.prefix + path;
    if (item) return this.host.out(topic, legacyPayload(value, 'raw', isMaskedSetting(service.type, path)), false);
    this.subTrees.set(topic, { service, path, value });
    this.host.out(topic, legacyPayload(forClients(service, path, value), 'raw'), false);
  }

  /** Every cached topic and kept sub-tree, in cache order. */
  private *entries(): Generator<[string, () => void]> {
    for (const service of this.host.cache.services.values()) {
      for (const item of service.items.values()) {
        if (!service.isBlocked(item)) yield [service.topicOf(item), () => this.host.publishItem(service, item)];
      }
    }
    for (const [topic, st] of this.subTrees) yield [topic, () => this.publishSubTree(topic, st)];
  }

  /**
   * dbus-mqtt's _publish_all: every topic that is published or covered, sorted by topic. When
   * the serial was sent just before, it is not sent again: dbus-mqtt's send queue holds one
   * message per topic, so there it went out once (K-P4, K-P7).
   */
  private publishAll(serialSent = false): void {
    if (!this.host.portalId) return;
    const serial = serialSent ? this.serialTopic() : undefined;
    const todo = [...this.entries()].filter(([topic]) => this.covered(topic));
    todo.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [topic, publish] of todo) {
      if (topic === serial) this.published.add(topic);
      else publish();
    }
  }

  /** K-P3: what the new filters cover and was not published yet. */
  private publishNew(filters: string[]): void {
    if (!this.host.portalId) return;
    for (const [topic, publish] of this.entries()) {
      if (this.published.has(topic)) continue;
      const short = this.short(topic);
      if (filters.some((f) => topicMatches(f, short))) publish();
    }
  }

  /** K-P6: expired subscriptions go; what nothing covers any more is emptied, the serial excepted. */
  private expire(): void {
    if (this.subs.expire() === 0) return;
    if (!this.subs.hasAll) {
      const serial = this.serialTopic();
      for (const topic of [...this.published]) {
        if (topic === serial || this.subs.matches(this.short(topic))) continue;
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

  /** dbus-mqtt has no heartbeat (K-P8): nothing to pause. */
  sourceLive(): void {}

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * A sub-tree as clients may see it: the two secrets masked (J4) and blocked paths left out
 * (N6), where dbus-mqtt sent both as they were.
 */
function forClients(service: Service, base: string, value: TypedValue): TypedValue {
  if (!value.signature.startsWith('a{')) return value;
  const valueType = memberTypes(firstType(value.signature.slice(1))[0])[1];
  const src = value.value instanceof Map ? [...(value.value as Map<unknown, unknown>)] : Object.entries(value.value as Record<string, unknown>);
  const out = new Map<unknown, unknown>();
  for (const [k, v] of src) {
    const full = joinPath(base, String(k));
    if (isBlockedPath(service.type, full)) continue;
    const isString = valueType === 's' || (valueType === 'v' && unwrapVariant(v as TypedValue)?.signature === 's');
    if (isString && isMaskedSetting(service.type, full)) out.set(k, valueType === 'v' ? { signature: 's', value: '******' } : '******');
    else out.set(k, v);
  }
  return { signature: value.signature, value: out };
}
