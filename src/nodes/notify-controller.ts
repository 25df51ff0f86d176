// gx-notify: one message per notification that matches a topic filter over
// `<type>/<instance>/<path>`, either always (every cache change) or only what the bridge
// publishes while kept alive (dbus-flashmq semantics).
import { GxEngine, ItemUpdate, OutMessage } from '../bridge/engine';
import { isValidFilter, topicMatches } from '../bridge/topics';
import { ItemMessage, itemMessage, PayloadMode } from './item-message';

export interface NotifyOptions {
  filter: string;
  when: 'always' | 'alive';
  initial: boolean;
  changesOnly: boolean;
  payloadMode: PayloadMode;
}

export class NotifyController {
  private readonly last = new Map<string, string>();
  private readonly filterParts: string[];
  private readonly onUpdate = (u: ItemUpdate) => this.handleUpdate(u);
  private readonly onPublish = (m: OutMessage) => this.handlePublish(m);
  private readonly onScanned = () => { this.initialScanDone = true; };
  private initialScanDone: boolean;

  constructor(private readonly engine: GxEngine, private readonly opts: NotifyOptions, private readonly emit: (m: ItemMessage) => void) {
    const filter = (opts.filter || '#').trim().replace(/^\/+/, '');
    if (!isValidFilter(filter)) throw new Error(`invalid topic filter '${opts.filter}' (MQTT wildcards over <type>/<instance>/<path>)`);
    this.filterParts = filter.split('/');
    this.initialScanDone = engine.cache.services.size > 0 || engine.sourceState === 'connected';
    engine.on('scanned', this.onScanned);
    if (opts.when === 'alive') engine.on('publish', this.onPublish);
    else engine.on('update', this.onUpdate);
    if (opts.initial) this.emitCurrent();
  }

  private matches(short: string): boolean {
    const f = this.filterParts;
    if (f.length === 1 && f[0] === '#') return true;
    return topicMatches(f.join('/'), short);
  }

  /** Current values of the matching items (the "at deploy" option). */
  emitCurrent(): void {
    for (const [service, item] of this.engine.items()) {
      if (!this.matches(`${service.type}/${service.instance}${item.path}`)) continue;
      this.deliver(itemMessage(this.engine.readItem(service, item), 'scan', this.engine.portalId, this.opts.payloadMode), service.payloadOf(item));
    }
  }

  private handleUpdate(u: ItemUpdate): void {
    if (u.cause === 'scan' && !this.initialScanDone && !this.opts.initial) return; // the deploy-time scan
    if (!this.matches(`${u.service.type}/${u.service.instance}${u.item.path}`)) return;
    this.deliver(itemMessage(this.engine.readItem(u.service, u.item), u.cause, this.engine.portalId, this.opts.payloadMode), u.payload);
  }

  private handlePublish(m: OutMessage): void {
    // N/<portal>/<type>/<instance>/<path…>: item topics only (not heartbeat, keepalive…)
    const parts = m.topic.split('/');
    if (parts.length < 5 || parts[0] !== 'N') return;
    const short = parts.slice(2).join('/');
    if (!this.matches(short)) return;
    const service = this.engine.cache.route(parts[2], parts[3]);
    const path = '/' + parts.slice(4).join('/');
    let value: unknown = null;
    let min: unknown;
    let max: unknown;
    if (m.payload !== '') {
      try {
        const p = JSON.parse(m.payload) as { value: unknown; min?: unknown; max?: unknown };
        value = p.value;
        min = p.min;
        max = p.max;
      } catch {
        return;
      }
    }
    const read = { service: service?.name ?? '', type: parts[2], instance: parts[3], path, topic: m.topic, payload: m.payload, value, min, max };
    this.deliver(itemMessage(read, m.payload === '' ? 'vanish' : 'change', this.engine.portalId, this.opts.payloadMode), m.payload);
  }

  private deliver(msg: ItemMessage, payload: string): void {
    if (this.opts.changesOnly) {
      if (this.last.get(msg.topic) === payload) return;
      if (payload === '') this.last.delete(msg.topic);
      else this.last.set(msg.topic, payload);
    }
    this.emit(msg);
  }

  close(): void {
    this.engine.removeListener('scanned', this.onScanned);
    this.engine.removeListener('publish', this.onPublish);
    this.engine.removeListener('update', this.onUpdate);
    this.last.clear();
  }
}
