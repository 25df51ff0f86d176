// The services of a remote GX, built from its notifications: `type/instance` from the topic,
// one synthetic service name per pair (`com.victronenergy.<type>.mqtt_<instance>`, so the
// engine's short type is the topic's), the items with their last value and min/max. An empty
// payload removes an item; the last item gone is the service gone (S1). A full republish
// shows every item the GX has, so what it did not show afterwards has gone (the sweep).
// The real bus names come from the GX's `system/0/ServiceMapping/com_victronenergy_<type>_<instance>`
// items (`{"value":"com.victronenergy.vebus.ttyO1"}`), where systemcalc publishes them: with
// them a full name in R/W routes as on the GX (only the exact name, I7).
// Bounded: a hostile broker cannot grow it past the configured services and items.
import type { ServiceInfo, SourceItem } from '../bridge/item-source';
import { requestType } from '../bridge/topics';
import type { TypedValue } from '../bridge/typed-value';

export interface ServiceSink {
  service(name: string, items: SourceItem[], info: ServiceInfo): void;
  changes(name: string, items: SourceItem[]): void;
  gone(name: string): void;
  /** the D-Bus name of an announced service became known, changed or was forgotten */
  busName(name: string, busName: string | undefined): void;
  warn(key: string, text: string): void;
}

export interface RemoteLimits {
  maxServices: number;
  maxItems: number;
}

/** An item as the source keeps it; it is also the SourceItem handed to the engine. */
interface Entry extends SourceItem {
  value: TypedValue;
  /** generation of the full keep-alive current when it was last heard */
  g: number;
}

export interface RemoteService {
  name: string;
  type: string;
  instance: string;
  paths: Map<string, Entry>;
  /** the engine knows it (a 'service' event went out) */
  announced: boolean;
  rebuild?: NodeJS.Timeout;
}

/** After a partial removal the service is rebuilt once the burst of empty payloads is over. */
const REBUILD_DELAY_MS = 200;

export function serviceNameOf(type: string, instance: string): string {
  return `com.victronenergy.${type}.mqtt_${instance}`;
}

/** How messages name a service of ours: `<type>/<instance>` (its name is made up). */
export function serviceLabelOf(name: string): string {
  const m = /^com\.victronenergy\.([^.]+)\.mqtt_(.+)$/.exec(name);
  return m ? `${m[1]}/${m[2]}` : name;
}

const MAPPING = '/ServiceMapping/com_victronenergy_';

export class RemoteServices {
  /** by the engine's service name */
  readonly services = new Map<string, RemoteService>();
  /** by `<type>/<instance>`, as notifications name them */
  private readonly byKey = new Map<string, RemoteService>();
  private itemCount = 0;
  /** `<type>/<instance>` → the service's D-Bus name, from system/0/ServiceMapping */
  private readonly busNames = new Map<string, string>();
  /** ServiceMapping path → the `<type>/<instance>` it names */
  private readonly mappingKeys = new Map<string, string>();
  /** the first full republish of a connection is collected and announced at once */
  syncing = true;
  generation = 0;

  constructor(private readonly sink: ServiceSink, private readonly limits: RemoteLimits) {}

  get items(): number {
    return this.itemCount;
  }

  /**
   * A notification for an item (`key` = `<type>/<instance>`). `quiet`: record it without telling
   * the engine (a read collects it and hands it over itself).
   */
  set(key: string, type: string, instance: string, path: string, value: TypedValue, min?: TypedValue, max?: TypedValue, quiet = false): void {
    let svc = this.byKey.get(key);
    if (!svc) {
      if (this.services.size >= this.limits.maxServices) {
        this.sink.warn('max-services', `more than ${this.limits.maxServices} services on the GX's broker: ${key} and later ones are ignored`);
        return;
      }
      svc = { name: serviceNameOf(type, instance), type, instance, paths: new Map(), announced: false };
      this.services.set(svc.name, svc);
      this.byKey.set(key, svc);
    }
    const old = svc.paths.get(path);
    let e: Entry;
    if (old) {
      // min/max, once known, stay (N2); the engine gets only what this notification carries
      old.value = value;
      old.g = this.generation;
      if (min) old.min = min;
      if (max) old.max = max;
      e = old;
    } else {
      if (this.itemCount >= this.limits.maxItems) {
        this.sink.warn('max-items', `more than ${this.limits.maxItems} items on the GX's broker: new paths are ignored`);
        if (svc.paths.size === 0) this.forget(svc);
        return;
      }
      this.itemCount++;
      e = { path, value, g: this.generation };
      if (min) e.min = min;
      if (max) e.max = max;
      svc.paths.set(path, e);
    }
    if (key === 'system/0' && path.startsWith(MAPPING)) this.mapping(path, value);
    if (quiet || this.syncing) return;
    if (!svc.announced) {
      svc.announced = true;
      this.sink.service(svc.name, [e], this.infoOf(svc));
    } else {
      this.sink.changes(svc.name, [e]);
    }
  }

  private infoOf(svc: RemoteService): ServiceInfo {
    const busName = this.busNames.get(`${svc.type}/${svc.instance}`);
    return busName ? { instance: svc.instance, synthetic: true, busName } : { instance: svc.instance, synthetic: true };
  }

  /**
   * `/ServiceMapping/com_victronenergy_<type>_<instance>` = the bus name (undefined: gone). Only
   * a name of that very type whose key names the instance counts; `com.victronenergy.settings`
   * and the like need none (the short form is the full one).
   */
  private mapping(path: string, value: TypedValue | undefined): void {
    const rest = path.slice(MAPPING.length);
    let t: { type: string; busName?: string } | undefined;
    try {
      t = value?.signature === 's' && typeof value.value === 'string' ? requestType(value.value) : undefined;
    } catch {
      t = undefined; // not a bus name
    }
    const usable = t?.busName !== undefined && rest.startsWith(t.type + '_') && rest.length > t.type.length + 1;
    const key = usable ? `${t!.type}/${rest.slice(t!.type.length + 1)}` : undefined;
    const old = this.mappingKeys.get(path);
    if (old !== undefined && old !== key) {
      this.mappingKeys.delete(path);
      this.setBusName(old, undefined);
    }
    if (key === undefined || (this.mappingKeys.size >= this.limits.maxServices && old === undefined)) return;
    this.mappingKeys.set(path, key);
    this.setBusName(key, t!.busName);
  }

  private setBusName(key: string, busName: string | undefined): void {
    if (this.busNames.get(key) === busName) return;
    if (busName === undefined) this.busNames.delete(key);
    else this.busNames.set(key, busName);
    const svc = this.byKey.get(key);
    if (svc?.announced) this.sink.busName(svc.name, busName);
  }

  private forget(svc: RemoteService): void {
    if (svc.rebuild) clearTimeout(svc.rebuild);
    this.services.delete(svc.name);
    this.byKey.delete(`${svc.type}/${svc.instance}`);
  }

  /** An empty payload: the item is gone. */
  remove(key: string, path: string): void {
    const svc = this.byKey.get(key);
    if (!svc || !svc.paths.delete(path)) return;
    this.itemCount--;
    if (key === 'system/0' && path.startsWith(MAPPING)) this.mapping(path, undefined);
    if (svc.paths.size === 0) this.drop(svc);
    else if (svc.announced && !svc.rebuild) svc.rebuild = setTimeout(() => this.rebuild(svc), REBUILD_DELAY_MS);
  }

  private drop(svc: RemoteService): void {
    this.itemCount -= svc.paths.size;
    this.forget(svc);
    if (svc.announced) this.sink.gone(svc.name);
  }

  /**
   * The engine has no "item gone": a service that lost some of its items leaves and comes back
   * with the rest (the GX itself never removes single items, S3; this is for the odd broker).
   */
  private rebuild(svc: RemoteService): void {
    svc.rebuild = undefined;
    if (this.services.get(svc.name) !== svc || !svc.announced) return;
    this.sink.gone(svc.name);
    this.sink.service(svc.name, this.itemsOf(svc), this.infoOf(svc));
  }

  itemsOf(svc: RemoteService): SourceItem[] {
    return [...svc.paths.values()];
  }

  /** The first full republish is complete: every service collected so far goes to the engine. */
  flush(): number {
    this.syncing = false;
    let n = 0;
    for (const svc of this.services.values()) {
      if (svc.announced) continue;
      svc.announced = true;
      this.sink.service(svc.name, this.itemsOf(svc), this.infoOf(svc));
      n++;
    }
    return n;
  }

  /** A full keep-alive goes out: what arrives from now on belongs to the new generation. */
  nextGeneration(): number {
    return ++this.generation;
  }

  /** The full republish of `generation` is complete: items it did not show have gone. */
  sweep(generation: number): void {
    for (const svc of [...this.services.values()]) {
      let removed = 0;
      for (const [path, e] of svc.paths) {
        if (e.g < generation) {
          svc.paths.delete(path);
          removed++;
          if (svc.type === 'system' && svc.instance === '0' && path.startsWith(MAPPING)) this.mapping(path, undefined);
        }
      }
      if (removed === 0) continue;
      this.itemCount -= removed;
      if (svc.paths.size === 0) this.drop(svc);
      else if (svc.announced) this.rebuild(svc);
    }
  }

  /** The connection is gone: forget everything (the source reports the state, the engine drops all). */
  clear(): void {
    for (const svc of this.services.values()) if (svc.rebuild) clearTimeout(svc.rebuild);
    this.services.clear();
    this.byKey.clear();
    this.busNames.clear();
    this.mappingKeys.clear();
    this.itemCount = 0;
    this.syncing = true;
  }
}
