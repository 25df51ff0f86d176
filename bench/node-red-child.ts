// Node-RED in its own process as it runs on a GX: the real runtime embedded (require('node-red'),
// RED.init + RED.start, every core node loaded, editor and HTTP off, a flows file in a fresh
// user directory), forked with --expose-gc. Not the test helper: it wraps every node method in
// a spy that records each call, which is most of the CPU and memory at 10 000 messages/s.
// Started with `--gx` our package is installed (found through `nodesDir`, as Node-RED finds any
// package), without it nothing of ours is there. Messages are counted by a minimal node type
// (`bench-counter`, a package of its own in a temporary directory).
// - S6 (`load`): a gx-config on the private bus, a gx-notify with a topic filter into the
//   counter; the engine's own 'update' events are counted in the same process.
// - S7 (`deploy`, `memory`, `heapPerItem`): Node-RED on a GX, its RSS and heap.
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import * as v8 from 'v8';
import { cpuSeconds, memory } from './proc-stats';
import { serve } from './rpc';
import { heapAfterGc } from './heap';
import { tempDir } from './processes';

const withGx = process.argv.includes('--gx');
/** the repository: its package.json names our nodes, as an installed package's does */
const PACKAGE = path.join(__dirname, '..', '..');

interface Red {
  init(server: http.Server, settings: object): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  nodes: { getNode(id: string): unknown };
  runtime: { flows: { setFlows(o: { flows: { flows: object[] }; deploymentType: string }): Promise<unknown> } };
}

interface Counter { n: number; first: number; last: number }
const msgs: Counter = { n: 0, first: 0, last: 0 };
const updates: Counter = { n: 0, first: 0, last: 0 };
let cpu0 = 0;

function hit(c: Counter): void {
  const now = performance.now();
  if (c.n === 0) c.first = now;
  c.last = now;
  c.n++;
}

function rate(c: Counter): number {
  const s = (c.last - c.first) / 1000;
  return s > 0 ? c.n / s : 0;
}

(globalThis as { gxBenchCount?: () => void }).gxBenchCount = () => hit(msgs);

/** A package with one node type that counts what it receives (globalThis.gxBenchCount). */
function counterPackage(): string {
  const dir = tempDir('nr-counter');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'gx-bench-counter', version: '1.0.0', 'node-red': { nodes: { 'bench-counter': 'bench-counter.js' } } }));
  fs.writeFileSync(path.join(dir, 'bench-counter.js'), `module.exports = function (RED) {
  function BenchCounter(config) {
    RED.nodes.createNode(this, config);
    this.on('input', (msg, send, done) => { globalThis.gxBenchCount(); done(); });
  }
  RED.nodes.registerType('bench-counter', BenchCounter);
};\n`);
  fs.writeFileSync(path.join(dir, 'bench-counter.html'), `<script type="text/javascript">RED.nodes.registerType('bench-counter', { category: 'function', defaults: {}, inputs: 1, outputs: 0 });</script>\n`);
  return dir;
}

interface EngineLike {
  cache: { itemCount: number; services: Map<string, { items: Map<string, unknown>; topicOf(i: unknown): string; payloadOf(i: unknown): string }> };
  on(ev: string, fn: (...a: unknown[]) => void): void;
}

export interface FlowStats {
  messages: number;
  messageRate: number;
  updates: number;
  updateRate: number;
  lastMessageAt: number;
  cpuSeconds: number;
}

export interface NodeRedMemory {
  rssBytes: number;
  /** messages into the flow so far */
  messages: number;
  /** V8's young generation, committed */
  newSpaceBytes: number;
  /** heapUsed after full GCs */
  heapBytes: number;
  items: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let red: Red | undefined;
let deployed: EngineLike | undefined;

/** Starts Node-RED once, with `flow` in its flows file. */
async function startNodeRed(flow: object[]): Promise<Red> {
  if (red) throw new Error('Node-RED runs already');
  const userDir = tempDir('nr-user');
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow));
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- Node-RED itself, as its red.js loads it
  const r = require('node-red') as Red;
  r.init(http.createServer(), {
    userDir, flowFile: 'flows.json', credentialSecret: 'gx-bench', httpAdminRoot: false, httpNodeRoot: false, disableEditor: true,
    nodesDir: withGx ? [counterPackage(), PACKAGE] : [counterPackage()],
    logging: { console: { level: 'warn', metrics: false, audit: false } },
    diagnostics: { enabled: false }, runtimeState: { enabled: false }, editorTheme: { tours: false },
  });
  await r.start();
  red = r;
  return r;
}

/** The deployed gx-config's engine, once it holds at least `minItems` items. */
async function engineWith(minItems: number): Promise<EngineLike> {
  const t0 = Date.now();
  for (;;) {
    const cfg = red?.nodes.getNode('cfg') as { controller?: { engine?: EngineLike } } | null;
    const engine = cfg?.controller?.engine;
    if (engine && engine.cache.itemCount >= minItems) return engine;
    if (Date.now() - t0 > 120000) throw new Error(`gx-config: ${engine ? engine.cache.itemCount : 'no engine'} of ${minItems} items after 120 s`);
    await sleep(20);
  }
}

/** Waits until the counter has received `n` messages (60 s at most). */
async function messagesAtLeast(n: number): Promise<void> {
  const t0 = Date.now();
  while (msgs.n < n) {
    if (Date.now() - t0 > 60000) throw new Error(`${msgs.n} of ${n} messages after 60 s`);
    await sleep(20);
  }
}

function gxFlow(address: string, portalId: string, notify: Array<{ filter: string; when?: string; initial?: boolean }>): object[] {
  return [
    { id: 'f1', type: 'tab' },
    { id: 'cfg', type: 'gx-config', dbusAddress: address, portalId },
    ...notify.map((n, i) => ({ id: `n${i}`, type: 'gx-notify', z: 'f1', server: 'cfg', filter: n.filter, when: n.when ?? 'always',
      initial: n.initial ?? false, wires: [['out']] })),
    { id: 'out', type: 'bench-counter', z: 'f1' },
  ];
}

serve({
  async load(a: { address: string; filter: string; portalId: string; minItems: number }) {
    if (!withGx) throw new Error('started without --gx');
    await startNodeRed(gxFlow(a.address, a.portalId, [{ filter: a.filter }]));
    const engine = await engineWith(a.minItems);
    engine.on('update', () => hit(updates));
    return { items: engine.cache.itemCount };
  },
  /**
   * Starts Node-RED with a gx-config on `address` and a gx-notify per filter (as the editor
   * makes them: changes only; with `initial`, each sends the current values at deploy and every
   * item goes through a message once) into a counter, or (no address) a flow with the counter only.
   */
  async deploy(a: { address?: string; portalId?: string; filters?: string[]; initial?: boolean; minItems?: number; minMessages?: number }) {
    if (a.address && !withGx) throw new Error('started without --gx');
    const initial = a.initial === true;
    await startNodeRed(a.address ? gxFlow(a.address, a.portalId ?? '', (a.filters ?? []).map((filter) => ({ filter, initial })))
      : [{ id: 'f1', type: 'tab' }, { id: 'out', type: 'bench-counter', z: 'f1' }]);
    if (a.address) {
      deployed = await engineWith(a.minItems ?? 1);
      if (initial) await messagesAtLeast(a.minMessages ?? 0);
    }
    return { items: deployed?.cache.itemCount ?? 0, messages: msgs.n };
  },
  /** VmRSS after `settleMs` as it is, then (unless `gc` is false) the heap after full GCs. */
  async memory(a: { settleMs?: number; gc?: boolean }): Promise<NodeRedMemory> {
    await sleep(a.settleMs ?? 0);
    const rssBytes = memory(process.pid).rssBytes;
    const newSpaceBytes = v8.getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space')?.physical_space_size ?? 0;
    return { rssBytes, newSpaceBytes, messages: msgs.n, heapBytes: a.gc === false ? NaN : await heapAfterGc(), items: deployed?.cache.itemCount ?? 0 };
  },
  /**
   * Heap per item of a deployed gx-config: the heap after gc with a flow without it, then with
   * a gx-config on `address` holding every item (deployed as the editor deploys) and a gx-notify
   * '#' that has sent every item once (the catalogue loaded, its lookups kept), and a Map of
   * topic → payload (fresh strings) of the same items on top (the least a republishing cache holds).
   */
  async heapPerItem(a: { address: string; portalId: string; minItems: number; minMessages: number }) {
    if (!withGx) throw new Error('started without --gx');
    const r = await startNodeRed([{ id: 'f1', type: 'tab' }]);
    const empty = await heapAfterGc();
    msgs.n = 0;
    await r.runtime.flows.setFlows({ flows: { flows: gxFlow(a.address, a.portalId, [{ filter: '#', initial: true }]) }, deploymentType: 'full' });
    const engine = await engineWith(a.minItems);
    await messagesAtLeast(a.minMessages); // every item through a message once: the catalogue loaded, its lookups kept
    const withConfig = await heapAfterGc();
    const fresh = (x: string) => Buffer.from(x, 'utf8').toString('utf8');
    const minimal = new Map<string, string>();
    for (const svc of engine.cache.services.values()) for (const it of svc.items.values()) minimal.set(fresh(svc.topicOf(it)), fresh(svc.payloadOf(it)));
    const withMinimal = await heapAfterGc();
    return { items: engine.cache.itemCount, heapBytes: withConfig - empty, minimalBytes: withMinimal - withConfig, rssBytes: memory(process.pid).rssBytes, mapSize: minimal.size };
  },
  /**
   * VmRSS 5 s after the flow started (early), then polled until V8 has given back the young
   * generation it grew for the start (its memory reducer, at an idle moment some 15–30 s later:
   * new space at most 2 MiB), at most `maxMs`: settled, with the heap after gc read after that.
   */
  async settle(a: { maxMs: number }) {
    await sleep(5000);
    const newSpace = () => v8.getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space')?.physical_space_size ?? 0;
    const sample = (): NodeRedMemory => ({ rssBytes: memory(process.pid).rssBytes, newSpaceBytes: newSpace(), messages: msgs.n, heapBytes: NaN, items: deployed?.cache.itemCount ?? 0 });
    const early = sample();
    const t0 = Date.now();
    let settled = early;
    while (settled.newSpaceBytes > 2 * 1048576 && Date.now() - t0 < a.maxMs) {
      await sleep(1000);
      settled = sample();
    }
    if (settled !== early) { // a moment after the reducer's collection, as it is afterwards
      await sleep(2000);
      settled = sample();
    }
    return { early, settled, settledAfterMs: 5000 + Date.now() - t0, reduced: settled.newSpaceBytes <= 2 * 1048576, heapBytes: await heapAfterGc() };
  },
  reset() {
    Object.assign(msgs, { n: 0, first: 0, last: 0 });
    Object.assign(updates, { n: 0, first: 0, last: 0 });
    cpu0 = cpuSeconds(process.pid);
    return true;
  },
  stats(): FlowStats {
    return {
      messages: msgs.n, messageRate: rate(msgs), updates: updates.n, updateRate: rate(updates),
      lastMessageAt: msgs.last, cpuSeconds: cpuSeconds(process.pid) - cpu0,
    };
  },
  async unload() {
    await red?.stop();
    deployed = undefined;
    return true;
  },
});
