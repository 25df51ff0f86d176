// What the catalogue says about one path: its descriptor, built from a catalogue entry. A
// descriptor is shared by every item with the same service type and path (and, when its label
// shows no wildcard, by every path the entry matches), so caches can hold a reference to it.
import type { RawEntry } from './catalogue-data';

export interface EnumValue {
  readonly value: number;
  readonly name: string;
}

export interface PathDescriptor {
  /** short English label, e.g. 'State of charge', 'AC input L1 power' */
  readonly label: string;
  /** unit of the D-Bus value ('V', 'W', 'kWh', '%', '°C' …); absent when it has none */
  readonly unit?: string;
  /**
   * true when the path is meant to be written (a setpoint, a mode, a setting). A hint for
   * editors only: it grants nothing; what may be written is decided by the write policy.
   */
  readonly writable?: boolean;
  /** for an enumeration: the name of a value (3 → 'Bulk'), undefined for a value it does not list */
  readonly enum?: (value: unknown) => string | undefined;
  /** for an enumeration: every listed value, ascending */
  readonly enumValues?: readonly EnumValue[];
  /** where the entry's facts come from (descriptions of the catalogue's sources) */
  readonly sources: readonly string[];
}

export interface EnumTable {
  readonly lookup: (value: unknown) => string | undefined;
  readonly values: readonly EnumValue[];
}

/** One lookup function and one value list per enumeration, shared by every path that uses it. */
export function compileEnum(table: Record<string, string>): EnumTable {
  const names = new Map<number, string>();
  for (const [k, v] of Object.entries(table)) names.set(Number(k), v);
  const values = Object.freeze(
    [...names.entries()].sort((a, b) => a[0] - b[0]).map(([value, name]) => Object.freeze({ value, name })),
  );
  const lookup = (value: unknown): string | undefined => {
    if (typeof value === 'number') return Number.isInteger(value) ? names.get(value) : undefined;
    if (typeof value === 'bigint') return value >= -(2n ** 53n) && value <= 2n ** 53n ? names.get(Number(value)) : undefined;
    return undefined;
  };
  return { lookup, values };
}

type LabelPart = string | { capture: number; day: boolean };

/** A catalogue entry ready for lookups; builds descriptors for the paths it matches. */
export class CompiledEntry {
  private readonly parts: LabelPart[] | undefined;
  private shared: PathDescriptor | undefined = undefined;

  constructor(
    private readonly raw: RawEntry,
    private readonly enumTable: EnumTable | undefined,
    private readonly sources: readonly string[],
  ) {
    this.parts = parseLabel(raw[0]);
  }

  /** The descriptor for a path matched with these captures. */
  describe(captures: readonly string[]): PathDescriptor {
    if (!this.parts) return (this.shared ??= this.build(this.raw[0]));
    let label = '';
    for (const p of this.parts) label += typeof p === 'string' ? p : formatCapture(captures[p.capture - 1] ?? '?', p.day);
    return this.build(label);
  }

  private build(label: string): PathDescriptor {
    const [, unit, flags] = this.raw;
    const d: { -readonly [K in keyof PathDescriptor]: PathDescriptor[K] } = { label, sources: this.sources };
    if (unit !== '') d.unit = unit;
    if (flags.endsWith('W')) d.writable = true;
    if (this.enumTable) {
      d.enum = this.enumTable.lookup;
      d.enumValues = this.enumTable.values;
    }
    return Object.freeze(d);
  }
}

const PLACEHOLDER = /\{(\d+)(:day)?\}/g;

/** Splits a label into text and capture references; undefined when it shows no capture. */
function parseLabel(label: string): LabelPart[] | undefined {
  const parts: LabelPart[] = [];
  let last = 0;
  for (const m of label.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push(label.slice(last, m.index));
    parts.push({ capture: Number(m[1]), day: m[2] !== undefined });
    last = m.index + m[0].length;
  }
  if (parts.length === 0) return undefined;
  if (last < label.length) parts.push(label.slice(last));
  return parts;
}

/** A history day index: 0 is today, 1 yesterday, n is n days ago. */
function formatCapture(capture: string, day: boolean): string {
  if (!day) return capture;
  const n = Number(capture);
  return n === 0 ? 'today' : n === 1 ? 'yesterday' : `${n} days ago`;
}
