// Loader for Victron dbus-recorder files (tab separated, quote character `'`):
//   line 1            the service name
//   path TYPE value text        one line per path: the initial state
//   (blank line)
//   seconds path TYPE value text   the recorded changes, replayed in order and looped
// TYPE: INT16 UINT16 INT32 UINT32 BYTE DOUBLE STRING BOOLEAN (also INT64 UINT64), ARRAY (an empty
// array: the invalid value) or ARRAY[T] with a JSON list as value (ARRAY[BYTE] → `ay`).
import * as fs from 'fs';
import * as path from 'path';
import { Variant, invalid } from './values';
import type { PathDef, ScriptedChange, ServiceDef } from './types';

const RECORDER_TYPES: Record<string, string> = {
  BYTE: 'y', INT16: 'n', UINT16: 'q', INT32: 'i', UINT32: 'u', INT64: 'x', UINT64: 't',
  DOUBLE: 'd', STRING: 's', BOOLEAN: 'b',
};

/** Splits tab separated text into rows, honouring `'` quotes ('' inside quotes is one quote). */
export function parseTsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endField = () => { row.push(field); field = ''; };
  const endRow = () => { endField(); rows.push(row); row = []; };
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === "'") {
        if (text[i + 1] === "'") { field += "'"; i += 2; continue; }
        quoted = false;
      } else {
        field += c;
      }
      i++;
      continue;
    }
    if (c === "'" && field === '') { quoted = true; i++; continue; }
    if (c === '\t') { endField(); i++; continue; }
    if (c === '\r' && text[i + 1] === '\n') { i++; continue; }
    if (c === '\n') { endRow(); i++; continue; }
    field += c;
    i++;
  }
  if (field !== '' || row.length > 0) endRow();
  return rows;
}

/** A recorder TYPE + value text → Variant. */
export function recorderValue(type: string, raw: string, where = ''): Variant {
  const t = type.trim().toUpperCase();
  if (t === 'ARRAY') return invalid();
  const arr = /^ARRAY\[(\w+)\]$/.exec(t);
  if (arr) {
    const el = RECORDER_TYPES[arr[1]];
    if (!el) throw new Error(`${where}unknown array element type '${arr[1]}'`);
    let list: unknown;
    try { list = JSON.parse(raw); } catch { throw new Error(`${where}ARRAY value is not a JSON list: ${raw}`); }
    if (!Array.isArray(list)) throw new Error(`${where}ARRAY value is not a JSON list: ${raw}`);
    if (list.length === 0) return invalid();
    const items = list.map((e) => scalar(el, typeof e === 'string' ? e : JSON.stringify(e), where));
    if (el === 'y') return new Variant('ay', Buffer.from(items as number[]));
    return new Variant(`a${el}`, items);
  }
  const sig = RECORDER_TYPES[t];
  if (!sig) throw new Error(`${where}unknown type '${type}'`);
  return new Variant(sig, scalar(sig, raw, where));
}

function scalar(sig: string, raw: string, where: string): unknown {
  switch (sig) {
    case 's': return raw;
    case 'b': {
      const r = raw.trim().toLowerCase();
      if (r === 'true' || r === '1') return true;
      if (r === 'false' || r === '0') return false;
      throw new Error(`${where}bad BOOLEAN '${raw}'`);
    }
    case 'd': {
      const n = Number(raw.trim());
      if (raw.trim() === '' || Number.isNaN(n) || !Number.isFinite(n)) {
        // dbus-next can't marshal NaN/inf; such values don't occur in the Victron recordings.
        throw new Error(`${where}DOUBLE '${raw}' can't be sent as a D-Bus double`);
      }
      return n;
    }
    case 'x': case 't': {
      if (!/^-?\d+$/.test(raw.trim())) throw new Error(`${where}bad integer '${raw}'`);
      return BigInt(raw.trim());
    }
    default: {
      const n = Number(raw.trim());
      if (raw.trim() === '' || !Number.isInteger(n)) throw new Error(`${where}bad integer '${raw}'`);
      return n;
    }
  }
}

/** Parses a recording's text into a service definition (initial paths + scripted changes). */
export function parseRecording(text: string, source = 'recording'): ServiceDef {
  const rows = parseTsv(text);
  if (rows.length === 0 || !rows[0][0]) throw new Error(`${source}: empty recording`);
  const name = rows[0][0].trim();
  const paths: Record<string, PathDef> = {};
  const changes: ScriptedChange[] = [];
  let inChanges = false;
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    const where = `${source}:${r + 1}: `;
    if (row.length === 1 && row[0].trim() === '') {
      inChanges = true;
      continue;
    }
    if (!inChanges) {
      if (row.length < 3) throw new Error(`${where}expected path, type, value, text`);
      const [p, type, raw, text = ''] = row;
      const value = recorderValue(type, raw, where);
      const t = type.trim().toUpperCase();
      // The recorded type is the item's fixed type (for SetValue), except for invalid values.
      paths[p] = { type: t === 'ARRAY' || (t.startsWith('ARRAY') && raw.trim() === '[]') ? undefined : value.signature, value, text };
    } else {
      if (row.length < 4) throw new Error(`${where}expected seconds, path, type, value, text`);
      const [secs, p, type, raw, text = ''] = row;
      const at = Number(secs);
      if (!Number.isFinite(at) || at < 0) throw new Error(`${where}bad time '${secs}'`);
      changes.push({ at, path: p, value: recorderValue(type, raw, where), text });
    }
  }
  changes.sort((a, b) => a.at - b.at); // stable: keeps file order within one second
  return { name, paths, changes, source };
}

export function loadRecording(file: string): ServiceDef {
  return parseRecording(fs.readFileSync(file, 'utf8'), path.basename(file));
}
