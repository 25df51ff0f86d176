// The path catalogue's footprint and lookup speed (issue 12), in this process:
//   npm run build && node --expose-gc dist/bench/catalogue.js
// Heap: heapUsed after gc() before the first lookup, after it (the data file read, parsed and
// compiled), and after describing the ESS recordings and a 100 000-item system (the memo).
// Time: the first lookup (load), lookups of new paths (tree walks), repeated lookups (memo).
import * as fs from 'fs';
import * as path from 'path';
import { loadRecording } from '../src/sim';
import { catalogueInfo, catalogueStats, describePath } from '../src/catalogue';

const RECORDINGS = path.join(__dirname, '..', '..', 'test', 'fixtures', 'recordings');

function heap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function items(count: number): Array<[string, string]> {
  const recs = fs.readdirSync(RECORDINGS).filter((f) => f.endsWith('.csv')).map((f) => loadRecording(path.join(RECORDINGS, f)));
  const out: Array<[string, string]> = [];
  for (let device = 0; out.length < count; device++) {
    for (const rec of recs) for (const p of Object.keys(rec.paths)) out.push([`${rec.name}_${device}`, p]);
    out.push(['com.victronenergy.settings', `/Settings/Devices/dev${device}/CustomName`]);
  }
  // flat copies: concatenated strings would be flattened (allocated) during the measurement
  return out.slice(0, count).map(([s, p]) => [flat(s), flat(p)]);
}

function flat(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

/**
 * Heap of one loaded catalogue without the code: ten fresh copies of the modules are loaded
 * (each reads and compiles its own data), the growth is divided by ten.
 */
function heapPerCopy(): number {
  const dir = path.join(__dirname, '..', 'src', 'catalogue');
  const fresh = () => {
    for (const k of Object.keys(require.cache)) if (k.startsWith(dir)) delete require.cache[k];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const c = require(path.join(dir, 'index.js')) as typeof import('../src/catalogue');
    c.describePath('battery', '/Soc');
    return c;
  };
  const keep = [fresh()];
  const h0 = heap();
  for (let i = 0; i < 10; i++) keep.push(fresh());
  const grown = heap() - h0;
  return keep.length > 0 ? grown / 10 : 0;
}

function main(): void {
  const perCopy = heapPerCopy();
  const ess = items(0);
  for (const f of fs.readdirSync(RECORDINGS).filter((n) => n.endsWith('.csv'))) {
    const rec = loadRecording(path.join(RECORDINGS, f));
    for (const p of Object.keys(rec.paths)) ess.push([rec.name, p]);
  }
  const large = items(100000);
  const kb = (b: number) => `${(b / 1024).toFixed(0)} KiB`;

  const h0 = heap();
  let t = process.hrtime.bigint();
  describePath('battery', '/Soc');
  const loadMs = Number(process.hrtime.bigint() - t) / 1e6;
  const h1 = heap();
  for (const [s, p] of ess) describePath(s, p);
  const h2 = heap();
  const before = catalogueStats();
  t = process.hrtime.bigint();
  for (const [s, p] of large) describePath(s, p);
  const coldNs = Number(process.hrtime.bigint() - t);
  const after = catalogueStats();
  const h3 = heap();
  const reps = 5;
  t = process.hrtime.bigint();
  for (let r = 0; r < reps; r++) for (const [s, p] of large) describePath(s, p);
  const warmNs = Number(process.hrtime.bigint() - t) / reps;

  const info = catalogueInfo();
  const out = {
    entries: info.entries,
    serviceTypes: info.serviceTypes.length,
    fileBytes: fs.statSync(info.file).size,
    loadMs: Number(loadMs.toFixed(1)),
    heapPerLoadedCatalogue: kb(perCopy),
    heapLoaded: kb(h1 - h0),
    heapWithEssMemo: kb(h2 - h0),
    essItems: ess.length,
    heapWith100kMemo: kb(h3 - h0),
    distinctPathsIn100k: after.resolutions - before.resolutions,
    firstPass100kMs: Number((coldNs / 1e6).toFixed(1)),
    repeatedLookupNs: Number((warmNs / large.length).toFixed(0)),
    nodeVisitsPerResolution: Number(((after.nodeVisits - before.nodeVisits) / Math.max(1, after.resolutions - before.resolutions)).toFixed(1)),
  };
  console.log(JSON.stringify(out, null, 2));
}

main();
