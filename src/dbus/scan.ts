// One scan of a service: GetItems on '/'; on UnknownMethod GetValue on '/'; where that fails
// too, introspection (spec D6–D8). It only fetches; the tracker decides when to scan, retries a
// scan that failed and merges what was signalled meanwhile.
import type { SourceItem } from '../bridge/item-source';
import { joinPath, subTreeEntries, unwrapVariant } from '../bridge/sub-tree';
import type { TypedValue } from '../bridge/typed-value';
import { BUS_ITEM, ITEMS_SIGNATURE, itemsFromDict } from './bus-item';
import { CANCELLED, DbusError } from './bus-calls';
import * as dbus from 'dbus-next';

type Msg = InstanceType<typeof dbus.Message>;

/** A method call on an object of the service being scanned (timeout, cancellation bound in). */
export type ItemCall = (path: string, member: string, iface?: string) => Promise<Msg>;

export type ScanLog = (level: 'debug' | 'warn', text: string) => void;

/** Nesting deeper than this is not introspected, nor more objects (no Victron service comes close). */
const MAX_DEPTH = 32;
const MAX_OBJECTS = 20000;

export async function scanService(call: ItemCall, name: string, log: ScanLog): Promise<SourceItem[]> {
  try {
    const reply = await call('/', 'GetItems');
    if (reply.signature !== ITEMS_SIGNATURE) throw new DbusError('InvalidSignature', `GetItems answered '${reply.signature}'`);
    return itemsFromDict(reply.body[0] as Record<string, Record<string, TypedValue>>);
  } catch (e) {
    if (!(e instanceof DbusError) || !isMissing(e.errorName)) throw e;
  }
  try {
    const reply = await call('/', 'GetValue');
    if (reply.signature !== 'v') throw new DbusError('InvalidSignature', `GetValue on / answered '${reply.signature}'`);
    const entries = subTreeEntries(reply.body[0] as TypedValue);
    if (!entries) {
      log('warn', `${name}: GetValue on / is not a dict ('${unwrapVariant(reply.body[0] as TypedValue)?.signature}'); no items`);
      return [];
    }
    return entries.map(([rel, value]) => ({ path: joinPath('/', rel), value }));
  } catch (e) {
    if (!(e instanceof DbusError) || !isMissing(e.errorName)) throw e;
  }
  const budget = { left: MAX_OBJECTS };
  const items = await introspect(call, name, '/', 0, log, budget);
  if (budget.left < 0) log('warn', `${name}: more than ${MAX_OBJECTS} objects to introspect; the rest left out`);
  return items;
}

async function introspect(call: ItemCall, name: string, path: string, depth: number, log: ScanLog,
  budget: { left: number }): Promise<SourceItem[]> {
  if (depth > MAX_DEPTH || --budget.left < 0) return [];
  const reply = await call(path, 'Introspect', 'org.freedesktop.DBus.Introspectable');
  const xml = String(reply.body[0] ?? '');
  // child nodes only: the top-level <node> may carry the object's own absolute path
  const children = [...xml.matchAll(/<node\s+name="([^"]+)"/g)].map((m) => m[1]).filter((n) => /^[A-Za-z0-9_]+$/.test(n));
  const out: SourceItem[] = [];
  if (children.length === 0 && xml.includes(`"${BUS_ITEM}"`) && path !== '/') {
    try {
      const v = await call(path, 'GetValue');
      if (v.signature === 'v') out.push({ path, value: unwrapVariant(v.body[0] as TypedValue) });
    } catch (e) {
      if (e instanceof DbusError && e.errorName === CANCELLED) throw e;
      log('debug', `${name} ${path}: ${(e as Error).message}`);
    }
  }
  for (const c of new Set(children)) {
    out.push(...await introspect(call, name, (path === '/' ? '' : path) + '/' + c, depth + 1, log, budget));
  }
  return out;
}

function isMissing(errorName: string): boolean {
  return errorName === 'org.freedesktop.DBus.Error.UnknownMethod' || errorName === 'org.freedesktop.DBus.Error.UnknownObject' ||
    errorName === 'org.freedesktop.DBus.Error.UnknownInterface';
}
