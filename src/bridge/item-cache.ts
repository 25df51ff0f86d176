// The item cache: every service, its device instance and its items with their last value,
// min/max and pre-serialised payload (spec T2: payloads are built once per change and reused).
import { encodePayload, isMaskedSetting } from './payload';
import type { SourceItem } from './item-source';
import { isInvalid, TypedValue } from './typed-value';
import { notificationPrefix } from './topics';

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

export class Service {
  readonly items = new Map<string, Item>();
  /** `N/<portal>/<type>/<instance>` */
  prefix: string;

  constructor(readonly name: string, readonly type: string, readonly instance: string, portal: string) {
    this.prefix = notificationPrefix(portal, type, instance);
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
   * min/max-only change for an unknown path carries no value and is dropped (D10).
   */
  apply(si: SourceItem): Item | undefined {
    let item = this.items.get(si.path);
    if (!item) {
      if (!si.value) return undefined;
      item = new Item(si.path, si.value.signature, si.value.value);
      item.update(undefined, si.min, si.max, si.text);
      this.items.set(si.path, item);
    } else {
      item.update(si.value, si.min, si.max, si.text);
    }
    return item;
  }
}

export class ItemCache {
  readonly services = new Map<string, Service>();
  private readonly routes = new Map<string, Service>();

  add(service: Service): void {
    this.services.set(service.name, service);
    this.routes.set(service.routingKey, service); // the service scanned last wins (I6)
  }

  remove(name: string): Service | undefined {
    const s = this.services.get(name);
    if (!s) return undefined;
    this.services.delete(name);
    if (this.routes.get(s.routingKey) === s) {
      this.routes.delete(s.routingKey);
      // Another live service on the same type/instance takes the route back.
      for (const other of this.services.values()) if (other.routingKey === s.routingKey) this.routes.set(s.routingKey, other);
    }
    return s;
  }

  route(type: string, instance: string): Service | undefined {
    return this.routes.get(`${type}/${instance}`);
  }

  clear(): void {
    this.services.clear();
    this.routes.clear();
  }

  setPortal(portal: string): void {
    for (const s of this.services.values()) s.prefix = notificationPrefix(portal, s.type, s.instance);
  }

  get itemCount(): number {
    let n = 0;
    for (const s of this.services.values()) n += s.items.size;
    return n;
  }
}
