// The catalogue's data file, catalogue.json (see SOURCES.md for where its facts come from):
//
//   { "format": 1,
//     "sources": { "<code>": "<what it is>", … },
//     "enums":   { "<name>": { "<integer>": "<value name>", … }, … },
//     "types":   { "<service type>": { "label": "<name of the device kind>",
//                                      "paths": { "<path pattern>": [label, unit, flags, enum?], … } },
//                  "*": { … paths every service may have … } } }
//
// A path pattern is a D-Bus path with wildcards (path-pattern.ts). label is short English and may
// show the wildcards' captures: {1}, {2} … in order, or {1:day} for a history day index
// (0 → 'today', 1 → 'yesterday', n → 'n days ago'). unit is one of UNITS or '' (none). flags are
// the source codes of the entry's facts, followed by 'W' when the path is meant to be written
// (a setpoint, a mode, a setting). enum names an entry of "enums".
import * as fs from 'fs';
import * as path from 'path';

export const CATALOGUE_FILE = path.join(__dirname, 'catalogue.json');

/** Units the catalogue uses (SI as on the D-Bus, except energy in kWh and temperature in °C). */
export const UNITS: readonly string[] = [
  'V', 'A', 'W', 'VA', 'kWh', 'Ah', '%', 'Hz', '°C', 's', 'h', 'd', 'RPM', 'kPa', 'hPa', 'm³', 'm', 'm/s', '°', 'lx',
  'ppm', 'µg/m³', 'W/m²',
];

export type RawEntry = [label: string, unit: string, flags: string, enumName?: string];

export interface RawTypeData {
  label: string;
  paths: Record<string, RawEntry>;
}

export interface CatalogueData {
  format: 1;
  sources: Record<string, string>;
  enums: Record<string, Record<string, string>>;
  types: Record<string, RawTypeData>;
}

export class CatalogueFormatError extends Error {}

const UNIT_SET = new Set(UNITS);
const INTEGER_KEY = /^(0|-?[1-9]\d*)$/;

/** Reads and checks the data file; throws CatalogueFormatError (or a read error) with the reason. */
export function readCatalogueData(file = CATALOGUE_FILE): CatalogueData {
  return checkCatalogueData(JSON.parse(fs.readFileSync(file, 'utf8')));
}

/** Checks the shape of the whole file, so that a bad entry is reported where it is, not at use. */
export function checkCatalogueData(data: unknown): CatalogueData {
  const fail = (where: string, what: string): never => {
    throw new CatalogueFormatError(`catalogue ${where}: ${what}`);
  };
  if (!isRecord(data) || data.format !== 1) fail('file', 'not a format 1 catalogue');
  const d = data as Record<string, unknown>;
  if (!isRecord(d.sources) || !isRecord(d.enums) || !isRecord(d.types)) fail('file', 'sources, enums and types must be objects');
  const sources = d.sources as Record<string, unknown>;
  for (const [code, text] of Object.entries(sources)) {
    if (!/^[a-z]$/.test(code) || typeof text !== 'string' || text === '') fail(`source '${code}'`, 'needs a one-letter code and a description');
  }
  const enums = d.enums as Record<string, unknown>;
  for (const [name, table] of Object.entries(enums)) {
    if (!isRecord(table) || Object.keys(table).length === 0) fail(`enum '${name}'`, 'must be a non-empty object');
    for (const [k, v] of Object.entries(table as Record<string, unknown>)) {
      if (!INTEGER_KEY.test(k)) fail(`enum '${name}'`, `key '${k}' is not an integer`);
      if (typeof v !== 'string' || v.trim() === '') fail(`enum '${name}'`, `value ${k} has no name`);
    }
  }
  for (const [type, td] of Object.entries(d.types as Record<string, unknown>)) {
    if (!isRecord(td) || typeof td.label !== 'string' || td.label === '' || !isRecord(td.paths)) {
      fail(`type '${type}'`, 'needs a label and paths');
    }
    for (const [pattern, entry] of Object.entries((td as Record<string, unknown>).paths as Record<string, unknown>)) {
      const where = `${type} ${pattern}`;
      if (!Array.isArray(entry) || entry.length < 3 || entry.length > 4) fail(where, 'entry must be [label, unit, flags, enum?]');
      const [label, unit, flags, enumName] = entry as unknown[];
      if (typeof label !== 'string' || label.trim() === '') fail(where, 'empty label');
      if (typeof unit !== 'string' || (unit !== '' && !UNIT_SET.has(unit))) fail(where, `unknown unit '${String(unit)}'`);
      const m = typeof flags === 'string' ? /^([a-z]+)(W?)$/.exec(flags) : null;
      if (!m || [...m[1]].some((c) => !(c in sources))) fail(where, `flags '${String(flags)}' must be source codes, then W if writable`);
      if (enumName !== undefined && (typeof enumName !== 'string' || !(enumName in enums))) fail(where, `unknown enum '${String(enumName)}'`);
      if (enumName !== undefined && unit !== '') fail(where, 'an enumeration has no unit');
    }
  }
  return data as CatalogueData;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
