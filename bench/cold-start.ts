// Scenario 5: cold start. gx-bridge spawned → its "gx-bridge ready: … N services, M items" line
// (D-Bus scanned and MQTT subscribed). Baseline: a bare dbus-next client process spawned →
// GetItems answered by every service, all called in parallel (the D-Bus limit).
import { Bench } from './context';
import { forkTracked, stopChild } from './processes';
import { RpcChild } from './rpc';

export interface GetItemsResult {
  /** spawn → all GetItems replies, measured by the parent */
  ms: number;
  services: number;
  items: number;
  sinceProcessStartMs: number;
  connectMs: number;
  getItemsMs: number;
  rssBytes: number;
}

export async function bareGetItems(b: Bench): Promise<GetItemsResult> {
  const t0 = performance.now();
  const proc = forkTracked('dbus-baseline-client.js', ['--getitems', b.busAddress]);
  const child = new RpcChild(proc, 'dbus-baseline-client --getitems');
  try {
    const r = await new Promise<Omit<GetItemsResult, 'ms'>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('bare GetItems client: no answer in 120 s')), 120000);
      child.on('getitems', (d) => { clearTimeout(timer); resolve(d as Omit<GetItemsResult, 'ms'>); });
      child.on('error', (e) => { clearTimeout(timer); reject(new Error(String(e))); });
      proc.once('exit', () => reject(new Error('bare GetItems client exited')));
    });
    return { ms: performance.now() - t0, ...r };
  } finally {
    await stopChild(proc);
  }
}
