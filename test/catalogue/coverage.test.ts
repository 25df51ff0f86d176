// The catalogue covers what a real ESS system shows: every path of the recordings in
// test/fixtures/recordings and of the ESS scenario, with units that agree with the recorded texts.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { loadRecording, loadScenario } from '../../src/sim';
import { describePath } from '../../src/catalogue';

const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures');
const RECORDINGS = fs.readdirSync(path.join(FIXTURES, 'recordings')).filter((f) => f.endsWith('.csv')).sort();

/** Paths of the recordings the catalogue leaves out on purpose. */
const EXCEPTIONS = new Map([
  // The MK2 tunnel: a raw byte channel, never published (spec N6), nothing to label.
  ['vebus /Interfaces/Mk2/Tunnel', 'raw VE.Bus tunnel'],
]);

/** The recorder's spelling of units in the value texts → the catalogue's. */
const TEXT_UNITS: Record<string, string> = { C: '°C', m3: 'm³' };

interface RecordedPath {
  value?: unknown;
  text?: string;
}

interface Recorded {
  file: string;
  service: string;
  path: string;
  value: unknown;
  text: string;
}

/** Every initial path of every recording. */
function recordedPaths(): Recorded[] {
  return RECORDINGS.flatMap((file) => {
    const rec = loadRecording(path.join(FIXTURES, 'recordings', file));
    return Object.entries(rec.paths as Record<string, RecordedPath>).map(([p, def]) => ({
      file, service: rec.name, path: p, value: valueOf(def.value), text: def.text ?? '',
    }));
  });
}

function valueOf(v: unknown): unknown {
  return v !== null && typeof v === 'object' && 'value' in v ? (v as { value: unknown }).value : v;
}

test('every path of the recordings is described, except the documented exceptions', () => {
  assert.ok(RECORDINGS.length >= 7);
  const missing: string[] = [];
  let described = 0;
  for (const r of recordedPaths()) {
    const key = `${r.service.split('.')[2]} ${r.path}`;
    if (EXCEPTIONS.has(key)) assert.equal(describePath(r.service, r.path), undefined, `${key} is listed as an exception`);
    else if (describePath(r.service, r.path)) described++;
    else missing.push(`${r.file}: ${r.path}`);
  }
  assert.deepEqual(missing, []);
  assert.ok(described > 800, `${described} paths described`);
});

test('units agree with the units in the recorded value texts', () => {
  let checked = 0;
  for (const r of recordedPaths()) {
    const m = /^-?\d+(?:\.\d+)?\s?([A-Za-z%]+\d?)$/.exec(r.text);
    const d = describePath(r.service, r.path);
    if (!m || !d) continue;
    assert.equal(d.unit, TEXT_UNITS[m[1]] ?? m[1], `${r.file} ${r.path}: recorded '${r.text}'`);
    checked++;
  }
  assert.ok(checked > 100, `${checked} units checked`);
});

test('enumeration names agree with the recorded texts (vebus state "absorption", mode "on", alarms "ok")', () => {
  let checked = 0;
  for (const r of recordedPaths()) {
    const d = describePath(r.service, r.path);
    if (!d?.enum || !/^[a-z][a-z ]*$/i.test(r.text)) continue;
    assert.equal(d.enum(r.value)?.toLowerCase(), r.text.toLowerCase(), `${r.file} ${r.path}`);
    checked++;
  }
  assert.ok(checked >= 20, `${checked} enumeration values checked`);
});

test('the system and settings paths of the ESS scenario are described', () => {
  const services = loadScenario(path.join(FIXTURES, 'scenarios', 'ess-gx.json'));
  const missing: string[] = [];
  for (const s of services) {
    if (!/\.(system|settings)$/.test(s.name)) continue;
    for (const p of Object.keys(s.paths)) {
      // test-only settings the scenario invents to exercise write errors
      if (p.startsWith('/Settings/System/ReadOnlyThing') || p.startsWith('/Settings/System/PickyThing')) continue;
      if (!describePath(s.name, p)) missing.push(`${s.name} ${p}`);
    }
  }
  assert.deepEqual(missing, []);
});
