// Read requests (spec R2–R5): always from the source, never from the cache (some paths never
// signal, R2); a path the cache does not know is read as a sub-tree (R3), `/` is the whole
// service (R5). Bounded like a GX must be (venus#1583): a few calls in flight, the rest wait,
// identical waiting reads share one call (and, from MQTT, its one reply). In legacy mode the
// protocol answers MQTT reads itself, with the D-Bus reply as it came (R8, R9).
import { EngineHost, RequestError, routeOf } from './engine-api';
import type { Item, Service } from './item-cache';
import type { ItemSource } from './item-source';
import type { NotificationProtocol } from './protocol';
import { toPlain } from './payload';
import { RequestLimiter } from './request-limiter';
import { joinPath, subTreeEntries, unwrapVariant } from './sub-tree';
import type { ItemAddress } from './topics';
import type { TypedValue } from './typed-value';

export interface ReadItem {
  service: string;
  type: string;
  instance: string;
  path: string;
  topic: string;
  payload: string;
  value: unknown;
  min?: unknown;
  max?: unknown;
  /** the service's own text for the current value ("52.10V", "Bulk"), when it gave one */
  text?: string;
}

export interface ReadOptions {
  /** the results go out as notifications, alive or not (R2, R3) */
  publish?: boolean;
  /** a plain value for an unlisted path is taken as a new item (flows only; MQTT keeps R4) */
  acceptLeaf?: boolean;
  /** also return blocked paths (flows only: N6 stops publishing, not reading; cf. W10) */
  includeBlocked?: boolean;
}

/** One cached item as flows see it. */
export function readItemOf(service: Service, item: Item): ReadItem {
  return {
    service: service.name,
    type: service.type,
    instance: service.instance,
    path: item.path,
    topic: service.topicOf(item),
    payload: service.payloadOf(item),
    value: toPlain(item.sig, item.value),
    min: item.min ? toPlain(item.min.signature, item.min.value) : undefined,
    max: item.max ? toPlain(item.max.signature, item.max.value) : undefined,
    text: item.text,
  };
}

export class Reads {
  private readonly limiter: RequestLimiter;
  private readonly queueFull: RequestError;

  constructor(private readonly host: EngineHost, private readonly source: ItemSource, maxInFlight: number, maxQueued: number,
    private readonly protocol?: Pick<NotificationProtocol, 'readReply'>) {
    this.limiter = new RequestLimiter(maxInFlight, maxQueued);
    this.queueFull = new RequestError(`too many requests waiting (${maxQueued}); request dropped`);
  }

  /** GetValue calls in flight now */
  get active(): number {
    return this.limiter.active;
  }

  async read(addr: ItemAddress, opts: ReadOptions = {}): Promise<ReadItem[]> {
    const cache = this.host.cache;
    const service = routeOf(cache, addr);
    const known = service.items.get(addr.path);
    const key = `${service.name}${addr.path}`;
    // A flood of one R: a call for it is waiting (not started yet), and its reply goes to the
    // same topic, so this request is answered by it; nothing more is kept per request.
    if (opts.publish && this.limiter.isWaiting(key)) return [];
    // A flood of many: refused here, without a new error (and its stack) for each request.
    if (opts.publish && this.limiter.full) throw this.queueFull;
    let reply: TypedValue;
    try {
      reply = await this.limiter.run(key, () => this.source.getValue(service.name, addr.path));
    } catch (e) {
      const err = e as Error & { errorName?: string };
      throw new RequestError(`GetValue on ${service.label} ${addr.path} failed: ${err.message}${err.errorName ? ` (${err.errorName})` : ''}`);
    }
    if (cache.services.get(service.name) !== service) throw new RequestError(`${service.label} left during the read`);
    if (opts.publish && this.protocol?.readReply) return this.rawRead(service, addr.path, reply, known);
    const touched: Item[] = [];
    if (known) {
      known.update(unwrapVariant(reply));
      touched.push(known);
    } else {
      const dict = subTreeEntries(reply);
      if (!dict && opts.acceptLeaf) {
        const item = service.apply({ path: addr.path, value: unwrapVariant(reply) });
        if (item) touched.push(item); // else kept out of the cache (item-cache.ts) and not answered
      } else if (!dict) {
        throw new RequestError(`${addr.path} is not a known item of ${service.label} and not a sub-tree (R4)`);
      }
      for (const [rel, value] of dict ?? []) {
        const item = service.apply({ path: joinPath(addr.path, rel), value });
        if (item) touched.push(item); // else kept out of the cache (item-cache.ts) and not answered
      }
    }
    return this.touched(service, touched, !!opts.publish, !!opts.includeBlocked);
  }

  private touched(service: Service, items: Item[], publish: boolean, includeBlocked = false): ReadItem[] {
    const out: ReadItem[] = [];
    for (const item of items) {
      if (service.isBlocked(item)) {
        if (includeBlocked) out.push(readItemOf(service, item)); // flows may read it (N6 is about publishing)
        continue;
      }
      if (publish) this.host.publishItem(service, item, true);
      this.host.update('read', service, item);
      out.push(readItemOf(service, item));
    }
    return out;
  }

  /**
   * Legacy (R8, R9): the protocol publishes the reply as it came. A leaf the cache did not
   * know becomes an item, as dbus-mqtt adds it; a sub-tree stays one value (its known leaves
   * are refreshed in the cache, where dbus-mqtt left its cache stale).
   */
  private rawRead(service: Service, path: string, reply: TypedValue, known: Item | undefined): ReadItem[] {
    const value = unwrapVariant(reply);
    const dict = known ? undefined : subTreeEntries(reply);
    const touched: Item[] = [];
    let item = known;
    if (known) known.update(value);
    else if (!dict) item = service.apply({ path, value });
    for (const [rel, v] of dict ?? []) {
      const child = service.items.get(joinPath(path, rel));
      if (child) {
        child.update(v);
        touched.push(child);
      }
    }
    if (item) touched.push(item);
    this.protocol!.readReply!(service, path, value, item);
    return this.touched(service, touched, false);
  }

  close(err: Error): void {
    this.limiter.close(err);
  }
}
