// Scenario files: our own JSON description of simulated services.
//
// {
//   "description": "free text (ignored)",
//   "services": [
//     {
//       "name": "com.victronenergy.battery.sim0",          // full D-Bus name (required)
//       "recording": "recordings/battery.csv",             // optional: start from a recording
//                                                          // (path relative to this file); the
//                                                          // entries below add to / override it
//       "options": {                                       // all optional
//         "signals": "both",         // "items" (default) | "both" | "properties" | "none"
//         "getItems": true,          // false: GetItems → org.freedesktop.DBus.Error.UnknownMethod
//         "rootGetValue": true,      // false: GetValue/GetText on / and intermediates → UnknownMethod
//         "hang": false              // true: GetItems / GetValue on / never answer
//       },
//       "paths": {
//         "/DeviceInstance": { "type": "u", "value": 512 },
//         "/Dc/0/Voltage":  { "type": "d", "value": 12.5, "text": "12.50V" },
//         "/Dc/0/Current":  { "type": "d", "value": 3, "unit": "A", "decimals": 1 },
//         "/Soc":           { "type": "d", "value": null, "min": 0, "max": 100 },   // null = invalid
//         "/Mode":          { "type": "i", "value": 3, "readOnly": true },          // SetValue → 1
//         "/Relay/0/State": { "type": "i", "value": 0, "reject": true },            // SetValue → 2
//         "/Serial":        "HQ1234ABCDE",                 // bare value: type inferred
//         "/Count":         7,                             // bare integer → "i"; bare 7.5 → "d"
//         "/History/Raw":   { "type": "ay", "value": [1, 2, 3] },
//         "/Big":           { "type": "t", "value": "18446744073709551615" }  // 64-bit as string
//       },
//       "changes": [                                       // scripted changes, replayed in time
//         { "at": 1,   "path": "/Dc/0/Voltage", "value": 12.6, "text": "12.60V" },
//         { "at": 2.5, "path": "/Soc", "value": 55 },
//         { "at": 3,   "path": "/Soc", "value": null }      // becomes invalid
//       ],
//       "loopAfter": 5                                     // loop length in s (default last + 1)
//     }
//   ]
// }
//
// Path fields: `type` is a D-Bus signature (y n q i u x t d b s, ay ai ad as, a{sv}, …); without
// it the type is inferred from the value (JSON integers → i, other numbers → d, strings → s …).
// SetValue coerces to the type; a path with an invalid value and no type accepts any type. `value` null or absent = the invalid value (empty `ai`). `text` is GetText (default:
// from unit/decimals, else learned from `text`, else Python str() like velib, '---' for
// invalid). `min`/`max` answer GetMin/GetMax and appear in GetItems. A change's `value` is
// converted to the path's type; an object {"signature": "i", "value": 5} gives an exact type.
// A top-level JSON array of services is accepted too.
import * as fs from 'fs';
import * as path from 'path';
import { loadRecording } from './recording';
import type { PathDef, ScriptedChange, ServiceDef, ServiceOptions, SignalMode } from './types';
import { Variant } from './values';

const SIGNAL_MODES: SignalMode[] = ['both', 'items', 'properties', 'none'];
const PATH_KEYS = new Set(['type', 'value', 'text', 'decimals', 'unit', 'min', 'max', 'readOnly', 'reject']);

function fail(where: string, msg: string): never {
  throw new Error(`${where}: ${msg}`);
}

function jsonValue(v: unknown): unknown {
  // {"signature": "…", "value": …} → Variant with that exact type
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 2 && typeof o.signature === 'string' && 'value' in o) {
      const inner = o.signature === 'ay' && Array.isArray(o.value) ? Buffer.from(o.value as number[]) : o.value;
      return new Variant(o.signature, inner);
    }
  }
  return v;
}

function parseOptions(raw: unknown, where: string): Partial<ServiceOptions> {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(where, 'options must be an object');
  const o = raw as Record<string, unknown>;
  const out: Partial<ServiceOptions> = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === 'signals') {
      if (!SIGNAL_MODES.includes(v as SignalMode)) fail(where, `signals must be one of ${SIGNAL_MODES.join(', ')}`);
      out.signals = v as SignalMode;
    } else if (k === 'getItems' || k === 'rootGetValue' || k === 'hang') {
      if (typeof v !== 'boolean') fail(where, `${k} must be true or false`);
      out[k] = v;
    } else {
      fail(where, `unknown option '${k}'`);
    }
  }
  return out;
}

function parsePath(raw: unknown, where: string): PathDef | unknown {
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const o = raw as Record<string, unknown>;
    if (Object.keys(o).length === 2 && typeof o.signature === 'string' && 'value' in o) return jsonValue(o);
    for (const k of Object.keys(o)) if (!PATH_KEYS.has(k)) fail(where, `unknown path field '${k}'`);
    if (o.type !== undefined && typeof o.type !== 'string') fail(where, 'type must be a D-Bus signature string');
    const def: PathDef = { ...o } as PathDef;
    if ('value' in o) def.value = jsonValue(o.value);
    if ('min' in o) def.min = jsonValue(o.min);
    if ('max' in o) def.max = jsonValue(o.max);
    return def;
  }
  return raw;
}

/** Parses scenario JSON text. `baseDir` resolves "recording" references. */
export function parseScenario(text: string, source = 'scenario', baseDir = '.'): ServiceDef[] {
  let doc: unknown;
  try { doc = JSON.parse(text); } catch (e) { fail(source, `not JSON: ${(e as Error).message}`); }
  const list = Array.isArray(doc) ? doc : (doc as { services?: unknown })?.services;
  if (!Array.isArray(list)) fail(source, 'expected {"services": [...]}');
  return list.map((s, i) => {
    const where = `${source}: services[${i}]`;
    if (typeof s !== 'object' || s === null) fail(where, 'must be an object');
    const o = s as Record<string, unknown>;
    let base: ServiceDef | undefined;
    if (o.recording !== undefined) {
      if (typeof o.recording !== 'string') fail(where, 'recording must be a file name');
      base = loadRecording(path.resolve(baseDir, o.recording));
    }
    const name = o.name ?? base?.name;
    if (typeof name !== 'string' || !name) fail(where, 'name is required');
    const paths: Record<string, PathDef | unknown> = { ...(base?.paths ?? {}) };
    if (o.paths !== undefined) {
      if (typeof o.paths !== 'object' || o.paths === null || Array.isArray(o.paths)) fail(where, 'paths must be an object');
      for (const [p, d] of Object.entries(o.paths)) paths[p] = parsePath(d, `${where} ${p}`);
    }
    const changes: ScriptedChange[] = [...(base?.changes ?? [])];
    if (o.changes !== undefined) {
      if (!Array.isArray(o.changes)) fail(where, 'changes must be a list');
      o.changes.forEach((c, j) => {
        const cw = `${where} changes[${j}]`;
        if (typeof c !== 'object' || c === null) fail(cw, 'must be an object');
        const co = c as Record<string, unknown>;
        if (typeof co.at !== 'number' || !(co.at >= 0)) fail(cw, '"at" must be seconds >= 0');
        if (typeof co.path !== 'string') fail(cw, '"path" is required');
        if (co.text !== undefined && typeof co.text !== 'string') fail(cw, '"text" must be a string');
        changes.push({ at: co.at, path: co.path, value: jsonValue(co.value ?? null), text: co.text as string | undefined });
      });
    }
    changes.sort((a, b) => a.at - b.at);
    if (o.loopAfter !== undefined && (typeof o.loopAfter !== 'number' || !(o.loopAfter > 0))) fail(where, 'loopAfter must be > 0');
    return {
      name,
      paths,
      options: { ...(base?.options ?? {}), ...parseOptions(o.options, where) },
      changes,
      loopAfter: (o.loopAfter as number | undefined) ?? base?.loopAfter,
      source,
    };
  });
}

export function loadScenario(file: string): ServiceDef[] {
  return parseScenario(fs.readFileSync(file, 'utf8'), path.basename(file), path.dirname(path.resolve(file)));
}
