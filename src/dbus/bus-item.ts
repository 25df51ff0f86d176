// What com.victronenergy.BusItem messages hold, as source items: the GetItems / ItemsChanged
// dict (absolute path → {Value, Text, Min, Max}, spec D6, D10) and PropertiesChanged (D11).
import * as dbus from 'dbus-next';
import type { SourceItem } from '../bridge/item-source';
import { unwrapVariant } from '../bridge/sub-tree';
import type { TypedValue } from '../bridge/typed-value';

type Msg = InstanceType<typeof dbus.Message>;

export const BUS_ITEM = 'com.victronenergy.BusItem';
export const ITEMS_SIGNATURE = 'a{sa{sv}}';

/** GetItems / ItemsChanged: absolute path → {Value, Text, Min, Max}; other entries are skipped. */
export function itemsFromDict(dict: Record<string, Record<string, TypedValue>>): SourceItem[] {
  const out: SourceItem[] = [];
  for (const path of Object.keys(dict)) {
    if (path[0] !== '/') continue;
    const e = dict[path];
    if (!e || typeof e !== 'object') continue;
    const item: SourceItem = { path };
    if (isVariant(e.Value)) item.value = unwrapVariant(e.Value);
    if (isVariant(e.Min)) item.min = unwrapVariant(e.Min);
    if (isVariant(e.Max)) item.max = unwrapVariant(e.Max);
    if (item.value) item.text = textOf(e.Text);
    if (item.value || item.min || item.max) out.push(item);
  }
  return out;
}

/** An own property holding a variant (never one inherited, whatever the keys were called). */
function isVariant(v: unknown): v is TypedValue {
  return !!v && typeof v === 'object' && typeof (v as TypedValue).signature === 'string' && 'value' in (v as object);
}

/** The `Text` of an entry, when it is a string (velib sends `s`). */
export function textOf(v: TypedValue | undefined): string | undefined {
  const t = isVariant(v) ? unwrapVariant(v) : undefined;
  return t && t.signature === 's' ? (t.value as string) : undefined;
}

/**
 * The items a BusItem signal carries: ItemsChanged from any object path (D10),
 * PropertiesChanged for its own path, only when it has a Value (D11). Undefined for other
 * members; throws for a malformed signal.
 */
export function itemsOfSignal(msg: Msg): SourceItem[] | undefined {
  if (msg.member === 'ItemsChanged') {
    if (msg.signature !== ITEMS_SIGNATURE) throw new Error(`signature '${msg.signature}'`);
    return itemsFromDict(msg.body[0] as Record<string, Record<string, TypedValue>>);
  }
  if (msg.member === 'PropertiesChanged') {
    if (msg.signature !== 'a{sv}') throw new Error(`signature '${msg.signature}'`);
    const props = msg.body[0] as Record<string, TypedValue>;
    if (!isVariant(props.Value)) return []; // D11: only Value is used; without it nothing happens
    return [{ path: msg.path as string, value: unwrapVariant(props.Value), text: textOf(props.Text) }];
  }
  return undefined;
}
