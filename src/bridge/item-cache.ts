// The item cache: every service, its device instance and its items with their last value,
// min/max and pre-serialised payload (spec T2: payloads are built once per change and reused).
import { encodePayload, isMaskedSetting } from './payload';
import type { SourceItem } from './item-source';
import { isInvalid, TypedValue } from './typed-value';
import { notificationPrefix } from './topics';
import { MAX_TOPIC_BYTES, topicLevelProblem, topicTextProblem, utf8Bytes } from './topic-names';

export class Item {
  /** cached notification payload; undefined after a change until it is next needed */
  payload: string | undefined = undefined;
  min: TypedValue | undefined = undefined;
  max: TypedValue | undefined = undefined;
  /** signature of the last valid value, so that a write can keep the item's type */
  typeSig: string | undefined = undefined;
  /** the service's own text for the current value (GetItems / ItemsChanged `Text`), if known */
  text: string | undefined = undefined;

  constructor(readonly path: string, public sig: string, public value: unknown) {
    if (!isInvalid({ signature: sig, value })) this.typeSig = sig;
  }

  get typed(): TypedValue {
    return { signature: this.sig, value: this.value };
  }

  /**
   * Sets the value; min/max present in the change are merged, absent ones kept (D10, N2). A new
   * value without a text makes the old text stale, so it is dropped.
   */
  update(value: TypedValue | undefined, min?: TypedValue, max?: TypedValue, text?: string): void {
    if (value) {
      if (text === undefined && (value.signature !== this.sig || value.value !== this.value)) this.text = undefined;
      this.sig = value.signature;
      this.value = value.value;
      if (!isInvalid(value)) this.typeSig = value.signature;
    }
    if (text !== undefined) this.text = text;
    if (min) this.min = min;
    if (max) this.max = max;
    this.payload = undefined;
  }
}

/** Paths never published (N6); writes to them are still carried out (W10). */
export function isBlockedPath(type: string, path: string): boolean {
  return (type === 'vebus' && path === '/Interfaces/Mk2/Tunnel') || (type === 'paygo' && path === '/LVD/Threshold');
}

/** Told once per service when an item (or the service itself) is kept out of the cache. */
export type RefusalListener = (service: Service, what: string, reason: string) => void;

/** What a service needs from its cache: the item limit and where refusals are reported. */
interface CacheGuard {
  readonly maxItemsPerService: number;
  refused(service: Service, what: string, reason: string): void;
}

export class Service {
  readonly items = new Map<string, Item>();
  /** `N/<portal>/<type>/<instance>` */
  prefix: string;
  private prefixBytes: number;
  /** set when the service enters a cache */
  guard: CacheGuard | undefined = undefined;
  /**
   * Its D-Bus name on the GX, which a full bus name in R/W must be (I7): the name itself, except
   * for a service its source names itself (a GX over MQTT), which has the name the GX told, or none.
   */
  busName: string | undefined;
  /** How messages name it: its name, or `<type>/<instance>` where the source made the name up. */
  label: string;

  constructor(readonly name: string, readonly type: string, readonly instance: string, portal: string) {
    this.prefix = notificationPrefix(portal, type, instance);
    this.prefixBytes = utf8Bytes(this.prefix);
    this.busName = this.label = name;
  }

  get routingKey(): string {
    return `${this.type}/${this.instance}`;
  }

  topicOf(item: Item): string {
    return this.prefix + item.path;
  }

  payloadOf(item: Item): string {
    if (item.payload === undefined) {
      item.payload = encodePayload(item.typed, item.min, item.max, isMaskedSetting(this.type, item.path));
    }
    return item.payload;
  }

  isBlocked(item: Item): boolean {
    return isBlockedPath(this.type, item.path);
  }

  /**
   * Applies one value (and/or min/max) from the source: a new path becomes an item (D12); a
   * min/max-only change for an unknown path carries no value and is dropped (D10). A new path
   * that cannot be part of a topic, or one beyond the service's item limit, is dropped too:
   * it is never published and R/W cannot reach it (issue 14 #1).
   */
  apply(si: SourceItem): Item | undefined {
    let item = this.items.get(si.path);
    if (!item) {
      if (!si.value) return undefined;
      const problem = this.pathProblem(si.path);
      if (problem) {
        this.guard?.refused(this, `item ${printable(si.path)}`, problem);
        return undefined;
      }
      item = new Item(si.path, si.value.signature, si.value.value);
      item.update(undefined, si.min, si.max, si.text);
      this.items.set(si.path, item);
    } else {
      item.update(si.value, si.min, si.max, si.text);
    }
    return item;
  }

  /** Why a new item at `path` is kept out, or undefined. */
  private pathProblem(path: string): string | undefined {
    const bad = topicTextProblem(path);
    if (bad) return bad;
    if (this.prefixBytes + utf8Bytes(path) > MAX_TOPIC_BYTES) return `its topic would be longer than MQTT's ${MAX_TOPIC_BYTES} bytes`;
    const max = this.guard?.maxItemsPerService ?? Infinity;
    if (this.items.size >= max) return `the service already has ${max} items, the most kept for one service`;
    return undefined;
  }

  /**
   * A new owner's complete scan (D4, improved): afterwards the service holds exactly these
   * items, with the new owner's min/max and text. Returns the old items it no longer has.
   */
  replaceItems(items: SourceItem[]): Item[] {
    const old = [...this.items.values()];
    this.items.clear();
    for (const si of items) this.apply(si);
    return old.filter((i) => !this.items.has(i.path));
  }

  /** A stand-in with the same name and topics holding only `items` (to empty some of its topics). */
  detached(items: Iterable<Item>): Service {
    const s = new Service(this.name, this.type, this.instance, '');
    s.prefix = this.prefix;
    s.busName = this.busName;
    s.label = this.label;
    for (const item of items) s.items.set(item.path, item);
    return s;
  }

  setPortal(portal: string): void {
    this.prefix = notificationPrefix(portal, this.type, this.instance);
    this.prefixBytes = utf8Bytes(this.prefix);
    for (const item of [...this.items.values()]) {
      if (this.prefixBytes + utf8Bytes(item.path) <= MAX_TOPIC_BYTES) continue;
      this.items.delete(item.path);
      this.guard?.refused(this, `item ${printable(item.path)}`, `its topic would be longer than MQTT's ${MAX_TOPIC_BYTES} bytes`);
    }
  }

  /** Why the service's own topic prefix cannot be used (its instance), or undefined. */
  prefixProblem(): string | undefined {
    const bad = topicLevelProblem(this.instance);
    if (bad) return `its instance ${printable(this.instance)} cannot be part of an MQTT topic: ${bad}`;
    if (this.prefixBytes >= MAX_TOPIC_BYTES) return `its topics would be longer than MQTT's ${MAX_TOPIC_BYTES} bytes`;
    return undefined;
  }
}

/** A path or instance for a log line: quoted, control characters escaped, long ones cut. */
function printable(text: string): string {
  const cut = text.length > 80 ? text.slice(0, 80) + '…' : text;
  return JSON.stringify(cut).replace(/[\u007f-\u009f\ud800-\udfff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** Services reported once, by name; forgotten in bulk past this many (a name-churning service). */
const MAX_REMEMBERED = 1024;

export const DEFAULT_MAX_ITEMS_PER_SERVICE = 50000;

export class ItemCache implements CacheGuard {
  readonly services = new Map<string, Service>();
  /**
   * Routing key → the services that claim it, in the order they came. The first one routes
   * R/W until it leaves; a later one never takes the route over. This deliberately differs
   * from dbus-flashmq, where the service scanned last wins (I6): a second service must not
   * capture writes meant for the first (issue 14 #8).
   */
  private readonly claims = new Map<string, Service[]>();
  /** new items beyond this many in one service are dropped (a flood of new paths, D12) */
  maxItemsPerService = DEFAULT_MAX_ITEMS_PER_SERVICE;
  /** where refusals are told (the engine logs them); once per service */
  onRefused: RefusalListener | undefined = undefined;
  private readonly reported = new Set<string>();

  /**
   * Adds a service. Returns false, and reports why, when its topics cannot exist (an
   * instance with a wildcard, …): such a service is neither published nor routable.
   */
  add(service: Service): boolean {
    const problem = service.prefixProblem();
    if (problem) {
      this.refused(service, 'the service', problem);
      return false;
    }
    service.guard = this;
    this.services.set(service.name, service);
    const list = this.claims.get(service.routingKey);
    if (list) list.push(service);
    else this.claims.set(service.routingKey, [service]);
    return true;
  }

  remove(name: string): Service | undefined {
    const s = this.services.get(name);
    if (!s) return undefined;
    this.services.delete(name);
    const list = this.claims.get(s.routingKey)!;
    list.splice(list.indexOf(s), 1); // the next oldest claim, if any, now routes
    if (list.length === 0) this.claims.delete(s.routingKey);
    return s;
  }

  route(type: string, instance: string): Service | undefined {
    return this.claims.get(`${type}/${instance}`)?.[0];
  }

  /** The other services on the same type/instance (so on the same topics), the routed one first. */
  sharing(service: Service): Service[] {
    return (this.claims.get(service.routingKey) ?? []).filter((s) => s.name !== service.name);
  }

  refused(service: Service, what: string, reason: string): void {
    if (this.reported.has(service.name)) return;
    if (this.reported.size >= MAX_REMEMBERED) this.reported.clear();
    this.reported.add(service.name);
    this.onRefused?.(service, what, reason);
  }

  clear(): void {
    this.services.clear();
    this.claims.clear();
  }

  setPortal(portal: string): void {
    for (const s of this.services.values()) s.setPortal(portal);
  }

  get itemCount(): number {
    let n = 0;
    for (const s of this.services.values()) n += s.items.size;
    return n;
  }
}
