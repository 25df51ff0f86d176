// Service definitions: what the loaders (recording, scenario, synthetic) produce and what
// GxSimulator.addService takes.
import type { Variant } from 'dbus-next';

/**
 * Which change signals a service sends (velib sends both):
 * - 'both': PropertiesChanged on the item's path and one ItemsChanged on '/' per batch
 * - 'items': only ItemsChanged;  'properties': only PropertiesChanged;  'none': no signals.
 */
export type SignalMode = 'both' | 'items' | 'properties' | 'none';

export interface ServiceOptions {
  /**
   * Default 'items': velib sends one signal per change (ItemsChanged for changes made together),
   * and dbus-flashmq's captures show each change once. 'both' sends every change twice, as a
   * few services do; consumers then see it twice (D15: no deduplication).
   */
  signals: SignalMode;
  /** false: GetItems answers org.freedesktop.DBus.Error.UnknownMethod (old services). Default true. */
  getItems: boolean;
  /** false: GetValue/GetText on '/' and intermediate paths answer UnknownMethod. Default true. */
  rootGetValue: boolean;
  /** true: GetItems and GetValue on '/' never get a reply. Default false. */
  hang: boolean;
}

export const DEFAULT_OPTIONS: ServiceOptions = { signals: 'items', getItems: true, rootGetValue: true, hang: false };

export interface PathDef {
  /**
   * The item's D-Bus type (single complete signature: y n q i u x t d b s, ay, ai, ad, as, a{sv}…).
   * SetValue coerces to it. Without it the item's type is the type of its initial value (JS
   * integers → i, other numbers → d…); an item whose initial value is invalid and has no type
   * takes any type in SetValue (like a velib item without valuetype).
   */
  type?: string;
  /** JS value or a dbus-next Variant. null/undefined = invalid (empty `ai`). */
  value?: unknown;
  /** GetText. Default: formatted from unit/decimals, or str() like velib. */
  text?: string;
  /** Text format for changed values: decimals and unit suffix ("%.{decimals}f{unit}"). */
  decimals?: number;
  unit?: string;
  /** GetMin / GetMax, and "Min"/"Max" in GetItems. */
  min?: unknown;
  max?: unknown;
  /** SetValue returns 1 and changes nothing. */
  readOnly?: boolean;
  /** SetValue of a different valid value returns 2 (a velib change callback refusing it). */
  reject?: boolean;
}

/** One scripted change; `at` in seconds from the start of the replay. */
export interface ScriptedChange {
  at: number;
  path: string;
  /** Variant (as recorded), or JS value coerced to the item's type. null = invalid. */
  value: unknown;
  text?: string;
}

export interface ServiceDef {
  /** Full well-known name, e.g. com.victronenergy.battery.ttyO0 */
  name: string;
  /** Object path → definition (a bare value or Variant is also accepted). */
  paths: Record<string, PathDef | unknown>;
  options?: Partial<ServiceOptions>;
  /** Changes to replay, sorted by `at`. */
  changes?: ScriptedChange[];
  /** Length of one replay loop in seconds (default: last change + 1 s). */
  loopAfter?: number;
  /** Where the definition came from (file name), for messages. */
  source?: string;
}

export function isPathDef(v: unknown): v is PathDef {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Buffer.isBuffer(v)) return false;
  const keys = Object.keys(v);
  if (keys.length === 2 && keys.includes('signature') && keys.includes('value')) return false; // a Variant
  const allowed = new Set(['type', 'value', 'text', 'decimals', 'unit', 'min', 'max', 'readOnly', 'reject']);
  return keys.every((k) => allowed.has(k));
}

export type { Variant };
