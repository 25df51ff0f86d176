// The live items of a gx-config node for the editors' path picker (GET gx-config/<id>/items):
// filtered on the path, the catalogue's label and unit, the service's text for the value and
// the device's name, sorted by device, one page at a time with the total, and never a masked
// setting in clear (J4), neither its value nor its text.
import type { GxEngine } from '../bridge/engine';
import type { Item, Service } from '../bridge/item-cache';
import { isMaskedSetting, toPlain } from '../bridge/payload';
import { describePath, matchesQuery, serviceTypeLabel } from '../catalogue';

export const LIST_LIMIT_DEFAULT = 100;
export const LIST_LIMIT_MAX = 1000;
const MASK = '******';
/** longer values (arrays, long strings) are sent as a clipped JSON text */
const VALUE_MAX = 100;

export interface ListQuery {
  /**
   * case-insensitive text found in the path, the value's text or the device's name; or words
   * that all occur in the path, its catalogue label and unit, or the kind of device
   */
  q?: string;
  offset?: number;
  limit?: number;
}

export interface ListedItem {
  /** `<type>/<instance>/<path>` */
  path: string;
  /** `<type>/<instance>` */
  device: string;
  value: unknown;
  /** the service's own text for the value ("52.10V"), when it gave one */
  text?: string;
  /** the catalogue's label of the path ("State of charge"), when it knows the path */
  label?: string;
  /** the catalogue's unit of the value ("%") */
  unit?: string;
  /** the catalogue's name of the current value of an enumeration ("Bulk") */
  enum?: string;
  /** the catalogue says the path is meant to be written (a hint; the write policy decides) */
  writable?: true;
}

export interface ListedDevice {
  /** `<type>/<instance>` */
  device: string;
  /** the full D-Bus service name */
  service: string;
  /** /CustomName, else /ProductName, when the service has one */
  name?: string;
  /** the kind of device ("Battery", "VE.Bus inverter/charger"), when the catalogue knows the type */
  kind?: string;
  /** matching items of this device (on all pages) */
  count: number;
}

export interface ItemList {
  portalId: string | null;
  /** matching items on all pages */
  total: number;
  offset: number;
  limit: number;
  items: ListedItem[];
  /** the devices with matching items, in the order of the items */
  devices: ListedDevice[];
}

/** Query parameters as they come from Express: strings, arrays or nothing. */
export function listQueryOf(raw: Record<string, unknown>): ListQuery {
  const one = (v: unknown) => (Array.isArray(v) ? v[0] : v);
  const int = (v: unknown) => {
    const n = Number(one(v));
    return Number.isFinite(n) ? Math.floor(n) : undefined;
  };
  const q = one(raw.q);
  return { q: typeof q === 'string' ? q : undefined, offset: int(raw.offset), limit: int(raw.limit) };
}

export function listItems(engine: GxEngine | undefined, query: ListQuery = {}): ItemList {
  const offset = Math.max(0, query.offset ?? 0);
  const limit = Math.min(LIST_LIMIT_MAX, Math.max(1, query.limit ?? LIST_LIMIT_DEFAULT));
  const empty: ItemList = { portalId: engine?.portalId ?? null, total: 0, offset, limit, items: [], devices: [] };
  if (!engine) return empty;
  const q = (query.q ?? '').trim().toLowerCase();
  const services = [...engine.cache.services.values()].sort(byDevice);
  const devices: ListedDevice[] = [];
  const items: ListedItem[] = [];
  let total = 0;
  for (const service of services) {
    const device = service.routingKey;
    const name = nameOf(service);
    const deviceHit = q !== '' && !!name && name.toLowerCase().includes(q);
    let count = 0;
    const paths = [...service.items.values()].filter((it) => !service.isBlocked(it))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const item of paths) {
      if (q && !deviceHit && !itemMatches(service, item, q)) continue;
      count++;
      if (total >= offset && items.length < limit) items.push(listedItem(service, item));
      total++;
    }
    if (count > 0) {
      const d: ListedDevice = { device, service: service.name, count };
      if (name !== undefined) d.name = name;
      const kind = serviceTypeLabel(service.type);
      if (kind !== undefined) d.kind = kind;
      devices.push(d);
    }
  }
  return { ...empty, total, items, devices };
}

/** q (lower case) in the full path or the value's text, or its words in the path's description. */
function itemMatches(service: Service, item: Item, q: string): boolean {
  if (`${service.routingKey}${item.path}`.toLowerCase().includes(q)) return true;
  // a masked setting's text is "******" here: never searched
  if (item.text && !isMaskedSetting(service.type, item.path) && item.text.toLowerCase().includes(q)) return true;
  return matchesQuery(service.type, item.path, q);
}

function listedItem(service: Service, item: Item): ListedItem {
  const path = `${service.routingKey}${item.path}`;
  const plain = toPlain(item.sig, item.value);
  let text = item.text;
  const masked = isMaskedSetting(service.type, item.path);
  if (masked) text = text === undefined ? undefined : MASK; // the text would show the secret
  const value = masked && typeof plain === 'string' ? MASK : displayValue(plain);
  const out: ListedItem = { path, device: service.routingKey, value };
  if (text !== undefined && text !== '') out.text = text;
  const d = describePath(service.type, item.path);
  if (d) {
    out.label = d.label;
    if (d.unit !== undefined) out.unit = d.unit;
    const name = masked ? undefined : d.enum?.(plain);
    if (name !== undefined) out.enum = name;
    if (d.writable) out.writable = true;
  }
  return out;
}

function displayValue(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'string') return v.length > VALUE_MAX ? v.slice(0, VALUE_MAX - 1) + '…' : v;
  let json: string;
  try {
    json = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v);
  } catch {
    json = String(v);
  }
  if (json.length > VALUE_MAX) return json.slice(0, VALUE_MAX - 1) + '…';
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return json;
  }
}

function nameOf(service: Service): string | undefined {
  for (const p of ['/CustomName', '/ProductName']) {
    const it = service.items.get(p);
    if (it && typeof it.value === 'string' && it.value.trim() !== '') return it.value.trim();
  }
  return undefined;
}

function byDevice(a: Service, b: Service): number {
  if (a.type !== b.type) return a.type < b.type ? -1 : 1;
  const [x, y] = [Number(a.instance), Number(b.instance)];
  if (Number.isFinite(x) && Number.isFinite(y) && x !== y) return x - y;
  return a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : a.name < b.name ? -1 : 1;
}
