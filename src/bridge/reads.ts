// Read requests (spec R2–R5): always from the source, never from the cache (some paths never
// signal, R2); a path the cache does not know is read as a sub-tree (R3), `/` is the whole
// service (R5). Bounded like a GX must be (venus#1583): a few calls in flight, the rest wait,
// identical waiting reads share one call.
import { EngineHost, RequestError, routeOf } from './engine-api';
import type { Item, Service } from './item-cache';
import type { ItemSource } from './item-source';
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

  constructor(private readonly host: EngineHost, private readonly source: ItemSource, maxInFlight: number, maxQueued: number) {
    this.limiter = new RequestLimiter(maxInFlight, maxQueued);
  }

  /** GetValue calls in flight now */
  get active(): number {
    return this.limiter.active;
  }

  async read(addr: ItemAddress, opts: ReadOptions = {}): Promise<ReadItem[]> {
    const cache = this.host.cache;
    const service = routeOf(cache, addr);
    const known = service.items.get(addr.path);
    let reply: TypedValue;
    try {
      reply = await this.limiter.run(`${service.name}${addr.path}`, () => this.source.getValue(service.name, addr.path));
    } catch (e) {
      const err = e as Error & { errorName?: string };
      throw new RequestError(`GetValue on ${service.name} ${addr.path} failed: ${err.message}${err.errorName ? ` (${err.errorName})` : ''}`);
    }
    if (cache.services.get(service.name) !== service) throw new RequestError(`${service.name} left the bus during the read`);
    const touched: Item[] = [];
    if (known) {
      known.update(unwrapVariant(reply));
      touched.push(known);
    } else {
      const dict = subTreeEntries(reply);
      if (!dict && opts.acceptLeaf) {
        touched.push(service.apply({ path: addr.path, value: unwrapVariant(reply) })!);
      } else if (!dict) {
        throw new RequestError(`${addr.path} is not a known item of ${service.name} and not a sub-tree (R4)`);
      }
      for (const [rel, value] of dict ?? []) touched.push(service.apply({ path: joinPath(addr.path, rel), value })!);
    }
    const out: ReadItem[] = [];
    for (const item of touched) {
      if (service.isBlocked(item)) {
        if (opts.includeBlocked) out.push(readItemOf(service, item));
        continue;
      }
      if (opts.publish) this.host.publishItem(service, item, true);
      this.host.update('read', service, item);
      out.push(readItemOf(service, item));
    }
    return out;
  }

  close(err: Error): void {
    this.limiter.close(err);
  }
}
