// Scenario 7: Node-RED on a GX. What our nodes cost inside a Node-RED process, each process
// started the same way (node-red-child.ts: the real runtime with every core node, as on a GX):
// - RSS of Node-RED with a gx-config on the bus and a gx-notify per service (the ESS system,
//   its recordings replayed in real time meanwhile, as a GX's values change), against the same
//   Node-RED without our package (nothing of ours loaded); also with our package installed but
//   nothing of it deployed, and with the gx-notify nodes sending the current values at deploy
//   (every item through a message at once). Two rounds, medians.
// - heap per cached item of a deployed gx-config (100 000 items in the default run), with
//   everything it holds once a gx-notify '#' has sent every item (text, the catalogue and its
//   lookups), against a Map of topic → payload strings of the same items.
import { Bench } from './context';
import { PORTAL } from './bridge-process';
import type { NodeRedMemory } from './node-red-child';
import { forkTracked, stopChild } from './processes';
import { ratio } from './report';
import { RpcChild } from './rpc';
import { median } from './stats';

const MB = 1048576;

type Kind = 'without the package' | 'package, nothing deployed' | 'gx-config + gx-notify' | 'gx-config + gx-notify, current values at deploy';

interface Sample {
  /** VmRSS 5 s after the flow started: V8's young generation still as large as the start made it */
  early: NodeRedMemory;
  /** once V8's memory reducer has given the young generation back (at most 90 s): as it stays */
  settled: NodeRedMemory;
  settledAfterMs: number;
  reduced: boolean;
  /** heap after full GCs, read last */
  heapBytes: number;
}

/** One Node-RED process of each kind side by side (every one idles once started), sampled 5 s after its flow started and once settled. */
async function round(b: Bench, kinds: Kind[], filters: string[], items: number, published: number): Promise<Map<Kind, Sample>> {
  const children = kinds.map((k) => new RpcChild(forkTracked('node-red-child.js', k === 'without the package' ? [] : ['--gx'],
    { execArgv: ['--expose-gc'] }), `node-red-child (${k})`));
  try {
    const out = await Promise.all(kinds.map(async (k, i) => {
      const child = children[i];
      await child.ready();
      const initial = k === 'gx-config + gx-notify, current values at deploy';
      const flow = k.startsWith('gx-config') ? { address: b.busAddress, portalId: PORTAL, filters, initial, minItems: items, minMessages: published } : {};
      await child.call('deploy', flow);
      const sample = await child.call<Sample>('settle', { maxMs: 90000 }, 180000);
      await child.call('unload');
      return [k, sample] as [Kind, Sample];
    }));
    return new Map(out);
  } finally {
    await Promise.all(children.map((c) => stopChild(c.proc)));
  }
}

/** RSS of Node-RED with our nodes deployed on the system now on the bus, against Node-RED without the package. */
export async function nodeRedMemory(b: Bench, label: string, filters: string[], items: number, published: number, rounds = 2): Promise<void> {
  const kinds: Kind[] = ['without the package', 'package, nothing deployed', 'gx-config + gx-notify', 'gx-config + gx-notify, current values at deploy'];
  const results: Array<Map<Kind, Sample>> = [];
  await b.sim.call('startReplay', { speed: 1 });
  try {
    for (let r = 0; r < rounds; r++) results.push(await round(b, kinds, filters, items, published));
  } finally {
    await b.sim.call('stopReplay');
  }
  const all = (k: Kind) => results.map((r) => r.get(k)!);
  // settled: the samples where V8 gave the young generation back (the others are still early)
  const settledOf = (k: Kind) => (all(k).some((s) => s.reduced) ? all(k).filter((s) => s.reduced) : all(k));
  const rss = (k: Kind, when: 'early' | 'settled') => median((when === 'settled' ? settledOf(k) : all(k)).map((s) => s[when].rssBytes)) / MB;
  const list = (f: (s: Sample) => number) => Object.fromEntries(kinds.map((k) => [k, all(k).map((s) => +f(s).toFixed(2))]));
  const without = rss('without the package', 'settled');
  const installed = rss('package, nothing deployed', 'settled');
  const deployed = rss('gx-config + gx-notify', 'settled');
  const atDeploy = rss('gx-config + gx-notify, current values at deploy', 'settled');
  const extra = deployed - without;
  b.log(`  Node-RED RSS settled: ${without.toFixed(1)} MiB without the package, ${installed.toFixed(1)} MiB with it installed, ` +
    `${deployed.toFixed(1)} MiB with gx-config + ${filters.length} gx-notify, ${atDeploy.toFixed(1)} MiB sending the current values at deploy; ` +
    `5 s after start: ${rss('without the package', 'early').toFixed(1)} / ${rss('gx-config + gx-notify', 'early').toFixed(1)} MiB`);
  const details = {
    filters, items: all('gx-config + gx-notify')[0].settled.items,
    rssSettledMiB: list((s) => s.settled.rssBytes / MB), rssEarlyMiB: list((s) => s.early.rssBytes / MB),
    outsideYoungGenerationMiB: list((s) => (s.settled.rssBytes - s.settled.newSpaceBytes) / MB),
    newSpaceSettledMiB: list((s) => s.settled.newSpaceBytes / MB), newSpaceEarlyMiB: list((s) => s.early.newSpaceBytes / MB),
    heapAfterGcMiB: list((s) => s.heapBytes / MB), messages: list((s) => s.settled.messages), settledAfterS: list((s) => s.settledAfterMs / 1000),
    reduced: Object.fromEntries(kinds.map((k) => [k, all(k).map((s) => s.reduced)])),
    note: 'VmRSS 5 s after the flow started (early), and once V8 has given back the young generation it grew for the start (settled, at most 95 s; medians of the settled samples); the ESS recordings replayed meanwhile; rounds of the four side by side',
  };
  const earlyExtra = (k: Kind) => +(rss(k, 'early') - rss('without the package', 'early')).toFixed(2);
  b.add({
    scenario: 'S7 Node-RED on a GX', figure: `RSS with gx-config + ${filters.length} gx-notify, ${label}`, unit: 'MB', value: deployed, baseline: without,
    ratio: ratio(deployed, without), target: '≤ baseline + 10 MiB', met: extra <= 10,
    details: { ...details, extraMiB: +extra.toFixed(2), extraEarlyMiB: earlyExtra('gx-config + gx-notify'),
      baselineIs: 'the same Node-RED without our package (nothing of ours loaded), settled the same way' },
  });
  b.add({
    scenario: 'S7 Node-RED on a GX', figure: 'RSS with the package installed, nothing deployed', unit: 'MB', value: installed, baseline: without,
    ratio: ratio(installed, without), target: '', met: null,
    details: { extraMiB: +(installed - without).toFixed(2), baselineIs: 'the same Node-RED without our package' },
  });
  b.add({
    scenario: 'S7 Node-RED on a GX', figure: `RSS with gx-config + ${filters.length} gx-notify sending the current values at deploy`, unit: 'MB',
    value: atDeploy, baseline: without, ratio: ratio(atDeploy, without), target: '', met: null,
    details: { extraMiB: +(atDeploy - without).toFixed(2), extraEarlyMiB: earlyExtra('gx-config + gx-notify, current values at deploy'),
      baselineIs: 'the same Node-RED without our package' },
  });
}

/** Heap per item of a gx-config over everything on the bus now, in Node-RED. */
export async function nodeRedHeap(b: Bench, label: string, items: number, published: number, withTarget: boolean): Promise<void> {
  const child = new RpcChild(forkTracked('node-red-child.js', ['--gx'], { execArgv: ['--expose-gc'] }), 'node-red-child (heap)');
  try {
    await child.ready();
    const m = await child.call<{ items: number; heapBytes: number; minimalBytes: number; rssBytes: number }>('heapPerItem',
      { address: b.busAddress, portalId: PORTAL, minItems: items, minMessages: published }, 300000);
    const per = m.heapBytes / m.items;
    const minimal = m.minimalBytes / m.items;
    b.add({
      scenario: 'S7 Node-RED on a GX', figure: `gx-config heap per item, ${label}`, unit: 'B/item', value: per, baseline: minimal,
      ratio: ratio(per, minimal), target: withTarget ? '< 500 B/item' : '', met: withTarget ? per < 500 : null,
      details: { ...m, baselineIs: 'Map<topic, payload> of the same items (fresh strings), heapUsed after gc',
        note: 'heapUsed after gc with the gx-config deployed minus the same Node-RED with an empty flow: the node, its engine and D-Bus source, every module it loads on use and the cache' },
    });
  } finally {
    await stopChild(child.proc);
  }
}
