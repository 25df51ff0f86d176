// gx-notify: one message per notification that matches a topic filter over
// `<type>/<instance>/<path>`, either always (every cache change) or only what the bridge
// publishes while kept alive (dbus-flashmq semantics). Nothing is sent while the portal ID is
// unknown (a topic `N//…` is no topic); with "current values at deploy", what was left out
// then is sent once the portal ID is known.
//
// Changes only: a notification is a change when its value or min/max differ from what this node
// last sent for the item (the notification payload compared as text); a value repeated by
// PropertiesChanged and ItemsChanged, a re-scan or a read is not, nor is a new text alone.
// Rate limit: at most one message per path per N ms, the newest value winning (LatestThrottle).
import { GxEngine, ItemUpdate, OutMessage } from '../bridge/engine';
import type { Item, Service } from '../bridge/item-cache';
import { isValidFilter, topicMatches } from '../bridge/topics';
import { isSecret, ItemMessage, itemMessage, MessageOptions, PayloadMode } from './item-message';
import { LatestThrottle } from './latest-throttle';

export interface NotifyOptions {
  filter: string;
  when: 'always' | 'alive';
  initial: boolean;
  changesOnly: boolean;
  payloadMode: PayloadMode;
  /** the BLE pincode and the access-point password in clear (explicit opt-in; default masked) */
  revealSecrets?: boolean;
  /** at most one message per path per this many ms, the newest value winning (0 or absent: off) */
  minIntervalMs?: number;
}

/** A message on its way out, with what change-only needs to judge it. */
interface Outgoing {
  msg: ItemMessage;
  /** the item it is about; absent when its service has gone (a vanish) */
  item: Item | undefined;
  /** the payload it carries, as text ('' for a vanish) */
  key: string;
}

export class NotifyController {
  /** what was last sent per item (changes only); forgotten with the item when its service goes */
  private readonly sent = new WeakMap<Item, string>();
  private readonly throttle: LatestThrottle<string, Outgoing> | undefined;
  private readonly filter: string;
  private readonly msgOpts: MessageOptions;
  private readonly onUpdate = (u: ItemUpdate) => this.handleUpdate(u);
  private readonly onPublish = (m: OutMessage) => this.handlePublish(m);
  private readonly onScanned = () => { this.initialScanDone = true; };
  private readonly onPortal = () => this.portalKnown();
  private initialScanDone: boolean;
  /** services whose current values were not sent at deploy because the portal ID was unknown */
  private readonly missed = new Set<Service>();

  constructor(private readonly engine: GxEngine, private readonly opts: NotifyOptions, private readonly emit: (m: ItemMessage) => void) {
    const filter = (opts.filter || '#').trim().replace(/^\/+/, '');
    if (!isValidFilter(filter)) throw new Error(`invalid topic filter '${opts.filter}' (MQTT wildcards over <type>/<instance>/<path>)`);
    this.filter = filter;
    this.msgOpts = { payloadMode: opts.payloadMode, revealSecrets: opts.revealSecrets === true };
    const interval = opts.minIntervalMs ?? 0;
    if (!(interval >= 0)) throw new Error(`the rate limit must be a number of milliseconds (0 = off), not '${opts.minIntervalMs}'`);
    this.throttle = interval > 0 ? new LatestThrottle(interval, (o: Outgoing) => this.send(o)) : undefined;
    this.initialScanDone = engine.cache.services.size > 0 || engine.sourceState === 'connected';
    engine.on('scanned', this.onScanned);
    engine.on('portal', this.onPortal);
    if (opts.when === 'alive') engine.on('publish', this.onPublish);
    else engine.on('update', this.onUpdate);
    if (opts.initial) this.emitCurrent();
  }

  private matches(short: string): boolean {
    return this.filter === '#' || topicMatches(this.filter, short);
  }

  /** Current values of the matching items (the "at deploy" option). */
  emitCurrent(services: Iterable<Service> = this.engine.cache.services.values()): void {
    if (!this.engine.portalId) {
      for (const service of services) this.missed.add(service);
      return;
    }
    for (const service of services) {
      for (const item of service.items.values()) {
        if (service.isBlocked(item) || !this.matches(`${service.type}/${service.instance}${item.path}`)) continue;
        this.deliverItem(service, item, 'scan', service.payloadOf(item));
      }
    }
  }

  private portalKnown(): void {
    if (!this.opts.initial || this.missed.size === 0) return;
    const services = [...this.missed].filter((s) => this.engine.cache.services.get(s.name) === s);
    this.missed.clear();
    this.emitCurrent(services);
  }

  private handleUpdate(u: ItemUpdate): void {
    if (u.cause === 'scan' && !this.initialScanDone && !this.opts.initial) return; // the deploy-time scan
    if (!this.matches(`${u.service.type}/${u.service.instance}${u.item.path}`)) return;
    if (!this.engine.portalId) {
      if (u.cause === 'scan' && this.opts.initial) this.missed.add(u.service);
      return;
    }
    this.deliverItem(u.service, u.item, u.cause, u.payload);
  }

  private handlePublish(m: OutMessage): void {
    // N/<portal>/<type>/<instance>/<path…>: item topics only (not heartbeat, keepalive…)
    const parts = m.topic.split('/');
    if (parts.length < 5 || parts[0] !== 'N' || !parts[1]) return;
    const short = parts.slice(2).join('/');
    if (!this.matches(short)) return;
    const service = this.engine.cache.route(parts[2], parts[3]);
    const path = '/' + parts.slice(4).join('/');
    const item = service?.items.get(path);
    if (m.payload !== '' && service && item) {
      this.deliverItem(service, item, 'change', m.payload);
      return;
    }
    // the service went away (an empty payload): its items are no longer in the cache
    const read = { service: service?.name ?? '', type: parts[2], instance: parts[3], path, topic: m.topic, payload: m.payload, value: null };
    this.deliver({ msg: itemMessage(read, 'vanish', this.engine.portalId, this.msgOpts), item: undefined, key: '' });
  }

  private deliverItem(service: Service, item: Item, cause: ItemUpdate['cause'], payload: string): void {
    const r = this.engine.readItem(service, item);
    // a revealed secret is masked in the notification payload: compare on the value itself
    const key = this.msgOpts.revealSecrets && isSecret(r.type, r.path, r.value) ? `${payload}\u0000${String(r.value)}` : payload;
    this.deliver({ msg: itemMessage(r, cause, this.engine.portalId, this.msgOpts), item, key: cause === 'vanish' ? '' : key });
  }

  private deliver(o: Outgoing): void {
    if (this.throttle) {
      // a repeat of what was sent needs no window; while one is open it replaces what is held
      // (A, B, A within a window: the held B is replaced by A, which is then no change)
      if (this.isRepeat(o) && !this.throttle.isOpen(o.msg.topic)) return;
      this.throttle.push(o.msg.topic, o);
    } else {
      this.send(o);
    }
  }

  private isRepeat(o: Outgoing): boolean {
    return this.opts.changesOnly && o.item !== undefined && o.key !== '' && this.sent.get(o.item) === o.key;
  }

  private send(o: Outgoing): void {
    if (this.opts.changesOnly && o.item) {
      if (this.isRepeat(o)) return;
      if (o.key === '') this.sent.delete(o.item);
      else this.sent.set(o.item, o.key);
    }
    this.emit(o.msg);
  }

  /** Paths with an open rate-limit window (0 when idle). */
  get throttledPaths(): number {
    return this.throttle?.size ?? 0;
  }

  close(): void {
    this.engine.removeListener('scanned', this.onScanned);
    this.engine.removeListener('portal', this.onPortal);
    this.engine.removeListener('publish', this.onPublish);
    this.engine.removeListener('update', this.onUpdate);
    this.throttle?.close();
    this.missed.clear();
  }
}
