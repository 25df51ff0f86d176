// Lookups stay cheap for a large system: 100 000 items cost one tree walk per distinct path,
// each walk visits about one node per path element, and repeated lookups cost a Map access.
// (Work is counted, not timed; timings are in bench/catalogue.ts.)
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { loadRecording } from '../../src/sim';
import { catalogueStats, describePath, MEMO_LIMIT } from '../../src/catalogue';
import { PatternTree } from '../../src/catalogue/path-pattern';

const RECORDINGS = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'recordings');

/** 100 000 items: the recorded services repeated as many devices of their type, plus indexed paths. */
function largeSystem(): Array<[string, string]> {
  const items: Array<[string, string]> = [];
  const recs = fs.readdirSync(RECORDINGS).filter((f) => f.endsWith('.csv')).map((f) => loadRecording(path.join(RECORDINGS, f)));
  for (let device = 0; items.length < 100000; device++) {
    for (const rec of recs) {
      for (const p of Object.keys(rec.paths)) items.push([`${rec.name}_${device}`, p]);
    }
    items.push([`com.victronenergy.system`, `/Relay/${device}/State`]);
    items.push([`com.victronenergy.settings`, `/Settings/Devices/dev${device}/CustomName`]);
  }
  return items.slice(0, 100000);
}

test('100 000 items: one resolution per distinct type and path, a bounded walk each, none on the second pass', () => {
  const items = largeSystem();
  const distinct = new Set(items.map(([s, p]) => `${s.split('.')[2]}\n${p}`)).size;
  assert.ok(distinct < MEMO_LIMIT, 'this test stays below the memo limit');
  const maxDepth = Math.max(...items.map(([, p]) => p.split('/').length));
  const before = catalogueStats();
  let described = 0;
  for (const [s, p] of items) if (describePath(s, p)) described++;
  const first = catalogueStats();
  assert.ok(described > 99000, `${described} described`);
  assert.equal(first.resolutions - before.resolutions, distinct, 'each distinct path is resolved once');
  const visitsPerResolution = (first.nodeVisits - before.nodeVisits) / distinct;
  assert.ok(visitsPerResolution <= 2 * (maxDepth + 1), `${visitsPerResolution} nodes per resolution, depth ≤ ${maxDepth}`);
  for (const [s, p] of items) describePath(s, p);
  const second = catalogueStats();
  assert.equal(second.resolutions, first.resolutions, 'the second pass is answered from the memo');
  assert.equal(second.nodeVisits, first.nodeVisits);
});

test('one walk costs about one node per element, however many patterns the tree holds', () => {
  const small = new PatternTree<number>();
  const big = new PatternTree<number>();
  small.add('/Ac/L#/Power', 1);
  for (let i = 0; i < 5000; i++) big.add(`/Group${i}/#/Value${i % 7}`, i);
  big.add('/Ac/L#/Power', 1);
  const count = (t: PatternTree<number>) => {
    const c = { nodeVisits: 0 };
    assert.equal(t.match('/Ac/L2/Power', c)?.value, 1);
    return c.nodeVisits;
  };
  assert.equal(count(big), count(small));
  assert.ok(count(big) <= 4);
});
