// Scenario 4: memory. Heap per cached item of the engine in-process (engine-child.ts, with
// --expose-gc), against a plain topic → payload Map of the same items; and the resident size
// of the gx-bridge process, against a bare dbus-next client holding the GetItems replies.
import { Bench } from './context';
import type { EngineMeasure } from './engine-child';
import { PORTAL } from './bridge-process';
import { forkTracked, stopChild } from './processes';
import { ratio } from './report';
import { RpcChild } from './rpc';

export async function engineInProcess(b: Bench): Promise<EngineMeasure> {
  const child = new RpcChild(forkTracked('engine-child.js', [], { execArgv: ['--expose-gc'] }), 'engine-child');
  try {
    await child.ready();
    const m = await child.call<EngineMeasure>('measure', { address: b.busAddress, portalId: PORTAL });
    await child.call('close');
    return m;
  } finally {
    await stopChild(child.proc);
  }
}

export function addHeapFigure(b: Bench, label: string, m: EngineMeasure, withTarget: boolean): void {
  b.add({
    scenario: 'S4 memory', figure: `engine heap per item, ${label}`, unit: 'B/item', value: m.heapPerItem, baseline: m.minimalPerItem,
    ratio: ratio(m.heapPerItem, m.minimalPerItem), target: withTarget ? '< 500 B/item' : '', met: withTarget ? m.heapPerItem < 500 : null,
    details: { ...m, baselineIs: 'Map<topic, payload> of the same items (fresh strings), heapUsed after gc' },
  });
}

export function addRssFigure(b: Bench, label: string, bridgeRss: number, bareRss: number, details: Record<string, unknown>): void {
  const MB = 1048576;
  b.add({
    scenario: 'S4 memory', figure: `gx-bridge RSS, ${label}`, unit: 'MB', value: bridgeRss / MB, baseline: bareRss / MB,
    // issue 13: gx-bridge at the ESS system in at most 60 MiB (an absolute target; the ratio is to the bare client)
    ratio: ratio(bridgeRss, bareRss), target: label.startsWith('ESS') ? '≤ 60 MiB' : '', met: label.startsWith('ESS') ? bridgeRss / MB <= 60 : null,
    details: {
      ...details, baselineIs: 'VmRSS of a bare dbus-next client after GetItems on every service',
      extraBytesPerItem: typeof details.bridgeItems === 'number' ? (bridgeRss - bareRss) / details.bridgeItems : undefined,
    },
  });
}

