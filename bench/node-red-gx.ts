// Scenario 7: Node-RED on a GX. What our nodes cost inside a Node-RED process, each process
// started the same way (node-red-child.ts: the real runtime with every core node, as on a GX):
// - RSS of Node-RED with a gx-config on the bus and a gx-notify per service (the ESS system)
//   against the same Node-RED without our package (only Node-RED's core nodes: nothing of ours
//   loaded); also with our package installed but nothing of it deployed. Two rounds, medians.
// - heap per cached item of a deployed gx-config (100 000 items in the default run), with
//   everything its cache holds, against a Map of topic → payload strings of the same items.
import { Bench } from './context';
import { PORTAL } from './bridge-process';
import type { NodeRedMemory } from './node-red-child';
import { forkTracked, stopChild } from './processes';
import { ratio } from './report';
import { RpcChild } from './rpc';
import { median } from './stats';

const MB = 1048576;

type Kind = 'without the package' | 'package, nothing deployed' | 'gx-config + gx-notify';

async function nodeRedRss(b: Bench, kind: Kind, filters: string[], items: number): Promise<NodeRedMemory> {
  const args = kind === 'without the package' ? [] : ['--gx'];
  const child = new RpcChild(forkTracked('node-red-child.js', args, { execArgv: ['--expose-gc'] }), `node-red-child (${kind})`);
  try {
    await child.ready();
    const flow = kind === 'gx-config + gx-notify' ? { address: b.busAddress, portalId: PORTAL, filters, minItems: items } : {};
    await child.call('deploy', flow);
    const m = await child.call<NodeRedMemory>('memory', { settleMs: 2000 });
    await child.call('unload');
    return m;
  } finally {
    await stopChild(child.proc);
  }
}

/** RSS of Node-RED with our nodes deployed on the system now on the bus, against Node-RED without the package. */
export async function nodeRedMemory(b: Bench, label: string, filters: string[], items: number): Promise<void> {
  const kinds: Kind[] = ['without the package', 'package, nothing deployed', 'gx-config + gx-notify'];
  const runs = new Map<Kind, NodeRedMemory[]>(kinds.map((k) => [k, []]));
  for (let round = 0; round < 2; round++) {
    for (const k of kinds) runs.get(k)!.push(await nodeRedRss(b, k, filters, items));
  }
  const rss = (k: Kind) => median(runs.get(k)!.map((m) => m.rssBytes)) / MB;
  const heap = (k: Kind) => median(runs.get(k)!.map((m) => m.heapBytes)) / MB;
  const without = rss('without the package');
  const installed = rss('package, nothing deployed');
  const deployed = rss('gx-config + gx-notify');
  const extra = deployed - without;
  b.log(`  Node-RED RSS: ${without.toFixed(1)} MiB without the package, ${installed.toFixed(1)} MiB with it installed, ` +
    `${deployed.toFixed(1)} MiB with gx-config + ${filters.length} gx-notify (${runs.get('gx-config + gx-notify')![0].items} items)`);
  const details = {
    filters, items: runs.get('gx-config + gx-notify')![0].items,
    rssMiB: Object.fromEntries(kinds.map((k) => [k, runs.get(k)!.map((m) => +(m.rssBytes / MB).toFixed(2))])),
    heapAfterGcMiB: Object.fromEntries(kinds.map((k) => [k, +heap(k).toFixed(2)])),
    note: 'VmRSS 2 s after the flow started (no forced GC), two rounds, medians; heap after gc read afterwards',
  };
  b.add({
    scenario: 'S7 Node-RED on a GX', figure: `RSS with gx-config + ${filters.length} gx-notify, ${label}`, unit: 'MB', value: deployed, baseline: without,
    ratio: ratio(deployed, without), target: '≤ baseline + 10 MiB', met: extra <= 10,
    details: { ...details, extraMiB: +extra.toFixed(2), baselineIs: 'the same Node-RED without our package (only its core nodes)' },
  });
  b.add({
    scenario: 'S7 Node-RED on a GX', figure: 'RSS with the package installed, nothing deployed', unit: 'MB', value: installed, baseline: without,
    ratio: ratio(installed, without), target: '', met: null,
    details: { extraMiB: +(installed - without).toFixed(2), baselineIs: 'the same Node-RED without our package' },
  });
}

/** Heap per item of a gx-config over everything on the bus now, in Node-RED. */
export async function nodeRedHeap(b: Bench, label: string, items: number, withTarget: boolean): Promise<void> {
  const child = new RpcChild(forkTracked('node-red-child.js', ['--gx'], { execArgv: ['--expose-gc'] }), 'node-red-child (heap)');
  try {
    await child.ready();
    const m = await child.call<{ items: number; heapBytes: number; minimalBytes: number; rssBytes: number }>('heapPerItem',
      { address: b.busAddress, portalId: PORTAL, minItems: items }, 300000);
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
