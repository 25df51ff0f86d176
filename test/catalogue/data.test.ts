// The shipped catalogue data is well formed, and the checker rejects what is not.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { CATALOGUE_FILE, checkCatalogueData, CatalogueFormatError, readCatalogueData, UNITS } from '../../src/catalogue/catalogue-data';
import { PatternTree } from '../../src/catalogue/path-pattern';
import { catalogueInfo } from '../../src/catalogue';

const data = readCatalogueData();

test('the data file passes its checks: labels, units of the vocabulary, integer enum keys, known sources', () => {
  let entries = 0;
  for (const [type, td] of Object.entries(data.types)) {
    for (const [pattern, [label, unit, flags, enumName]] of Object.entries(td.paths)) {
      entries++;
      const where = `${type} ${pattern}`;
      assert.ok(label.trim() === label && label.length > 0 && label.length <= 80, where);
      assert.match(label, /^[A-Z0-9]/, `${where}: label starts with a capital`);
      assert.ok(unit === '' || UNITS.includes(unit), `${where}: unit ${unit}`);
      assert.ok(!label.includes(`(${unit})`) || unit === '', `${where}: the unit is not part of the label`);
      assert.match(flags, /^[a-z]+W?$/, where);
      for (const c of flags.replace('W', '')) assert.ok(c in data.sources, `${where}: source ${c}`);
      if (enumName !== undefined) {
        for (const k of Object.keys(data.enums[enumName])) assert.ok(Number.isSafeInteger(Number(k)) && String(Number(k)) === k, `${enumName} ${k}`);
      }
    }
  }
  assert.equal(catalogueInfo().entries, entries, 'every entry compiled');
});

test('every wildcard of a pattern shows in its label, so different paths get different labels', () => {
  for (const [type, td] of Object.entries(data.types)) {
    const labels = new Map<string, string>();
    for (const [pattern, [label]] of Object.entries(td.paths)) {
      const wildcards = pattern.split('/').filter((e) => e === '*' || e.endsWith('#')).length;
      for (let k = 1; k <= wildcards; k++) assert.ok(new RegExp(`\\{${k}(:day)?\\}`).test(label), `${type} ${pattern}: ${label}`);
      assert.ok(!/\{(\d+)/.test(label.replace(/\{(\d+)(:day)?\}/g, (m, n) => (Number(n) <= wildcards ? '' : m))), `${type} ${pattern}: no stray placeholder`);
      const other = labels.get(label);
      assert.equal(other, undefined, `${type}: '${label}' is the label of ${pattern} and ${other}`);
      labels.set(label, pattern);
    }
  }
});

test('every pattern is valid and listed once per type', () => {
  for (const td of Object.values(data.types)) {
    const tree = new PatternTree<string>();
    for (const pattern of Object.keys(td.paths)) tree.add(pattern, pattern);
    assert.equal(tree.size, Object.keys(td.paths).length);
  }
});

test('every source code has a description and is credited in SOURCES.md', () => {
  // SOURCES.md ships beside the data file (dist/src/catalogue), with the package.
  const sourcesMd = fs.readFileSync(path.join(path.dirname(CATALOGUE_FILE), 'SOURCES.md'), 'utf8');
  for (const [code, text] of Object.entries(data.sources)) {
    assert.ok(text.length > 10, code);
    assert.ok(sourcesMd.includes(`\`${code}\``), `SOURCES.md explains code ${code}`);
  }
});

test('the checker rejects malformed data with the place of the fault', () => {
  const good = () => JSON.parse(JSON.stringify(data));
  const bad: Array<[string, (d: any) => void]> = [
    ['unknown unit', (d) => { d.types.battery.paths['/Soc'][1] = 'percent'; }],
    ['empty label', (d) => { d.types.battery.paths['/Soc'][0] = ' '; }],
    ['enum key', (d) => { d.enums.vebusState['3.5'] = 'Half'; }],
    ['unknown enum', (d) => { d.types.vebus.paths['/State'][3] = 'noSuchEnum'; }],
    ['enum with a unit', (d) => { d.types.vebus.paths['/State'][1] = 'W'; }],
    ['source code', (d) => { d.types.battery.paths['/Soc'][2] = 'x'; }],
    ['format', (d) => { d.format = 2; }],
  ];
  for (const [what, spoil] of bad) {
    const d = good();
    spoil(d);
    assert.throws(() => checkCatalogueData(d), CatalogueFormatError, what);
  }
  assert.throws(() => checkCatalogueData(good()) && checkCatalogueData(null), CatalogueFormatError);
  assert.match(
    (() => { try { const d = good(); d.types.battery.paths['/Soc'][1] = 'percent'; checkCatalogueData(d); return ''; } catch (e) { return (e as Error).message; } })(),
    /battery \/Soc: unknown unit 'percent'/,
  );
});

test('a damaged or missing data file: every lookup answers undefined, nothing throws, the reason is told', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gx-catalogue-'));
  try {
    const src = path.dirname(CATALOGUE_FILE);
    for (const f of fs.readdirSync(src)) if (f.endsWith('.js')) fs.copyFileSync(path.join(src, f), path.join(dir, f));
    const probe = `const c = require(${JSON.stringify(path.join(dir, 'index.js'))});
      process.stdout.write(JSON.stringify({ d: c.describePath('battery', '/Soc') ?? null, e: c.enumName('vebus', '/State', 3) ?? null,
        q: c.matchesQuery('battery', '/Soc', 'soc'), err: c.catalogueInfo().loadError ?? null }));`;
    const run = () => {
      const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { d: unknown; e: unknown; q: boolean; err: string | null };
    };
    const missing = run();
    assert.deepEqual([missing.d, missing.e, missing.q], [null, null, true]);
    assert.match(String(missing.err), /catalogue\.json: ENOENT/);
    fs.writeFileSync(path.join(dir, 'catalogue.json'), '{"format":1,"sources":{},"enums":{},"types":{"battery":{"label":"Battery","paths":{"/Soc":["x","furlong","m"]}}}}');
    const damaged = run();
    assert.deepEqual([damaged.d, damaged.e], [null, null]);
    assert.match(String(damaged.err), /unknown unit 'furlong'/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
