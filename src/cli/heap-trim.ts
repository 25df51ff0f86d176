// gx-bridge only (its own process; never in Node-RED's): after a flood of requests V8 keeps the
// heap it grew to for the garbage, and the process stayed 40–60 MB larger for good (issue 14,
// item 15). Once the process is quiet again (the event loop mostly idle over an interval) and
// has grown well past its size after the last full collection, one full collection gives the
// memory back. Whatever remains is what there is to hold, and becomes the new baseline.
import { performance } from 'perf_hooks';
import * as v8 from 'v8';
import * as vm from 'vm';

export function trimHeapAfterFloods(intervalMs = 5000, growthBytes = 16 * 1024 * 1024): () => void {
  let gc: () => void;
  try {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  } catch {
    return () => undefined; // no collector to call: nothing to do
  }
  let baseline = process.memoryUsage.rss();
  let elu = performance.eventLoopUtilization();
  let collected = false;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, elu).utilization;
    elu = now;
    if (collected) {
      // V8 hands the freed pages back in the background: measure one interval later
      collected = false;
      baseline = process.memoryUsage.rss();
      return;
    }
    if (busy > 0.05 || process.memoryUsage.rss() - baseline <= growthBytes) return;
    gc();
    collected = true;
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
