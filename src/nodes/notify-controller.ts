// gx-notify: one message per notification that matches a topic filter over
// `<type>/<instance>/<path>`, either always (every cache change) or only what the bridge
// publishes while kept alive (dbus-flashmq semantics). Nothing is sent while the portal ID is
// unknown (a topic `N//…` is no topic); with "current values at deploy", what was left out
// then is sent once the portal ID is known.
import { GxEngine, ItemUpdate, OutMessage } from '../bridge/engine';
import type { Item, Service } from '../bridge/item-cache';
import { isValidFilter, topicMatches } from '../bridge/topics';
import { isSecret, ItemMessage, itemMessage, MessageOptions, PayloadMode } from './item-message';

export interface NotifyOptions {
  filter: string;
  when: 'always' | 'alive';
  initial: boolean;
  changesOnly: boolean;
  payloadMode: PayloadMode;
  /** the BLE pincode and the access-point password in clear (explicit opt-in; default masked) */
  revealSecrets?: boolean;
}

export class NotifyController {
  private readonly last = new Map<string, string>();
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
    this.deliver(itemMessage(read, 'vanish', this.engine.portalId, this.msgOpts), m.payload);
  }

  private deliverItem(service: Service, item: Item, cause: ItemUpdate['cause'], payload: string): void {
    const r = this.engine.readItem(service, item);
    // a revealed secret is masked in the notification payload: compare on the value itself
    const key = this.msgOpts.revealSecrets && isSecret(r.type, r.path, r.value) ? `${payload}\u0000${String(r.value)}` : payload;
    this.deliver(itemMessage(r, cause, this.engine.portalId, this.msgOpts), cause === 'vanish' ? '' : key);
  }

  private deliver(msg: ItemMessage, key: string): void {
    if (this.opts.changesOnly) {
      if (this.last.get(msg.topic) === key) return;
      if (key === '') this.last.delete(msg.topic);
      else this.last.set(msg.topic, key);
    }
    this.emit(msg);
  }

  close(): void {
    this.engine.removeListener('scanned', this.onScanned);
    this.engine.removeListener('portal', this.onPortal);
    this.engine.removeListener('publish', this.onPublish);
    this.engine.removeListener('update', this.onUpdate);
    this.last.clear();
    this.missed.clear();
  }
}
