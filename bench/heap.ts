// The heap of a process forked with --expose-gc: heapUsed after full GCs, repeated (with a turn
// of the event loop between) until it settles.
export async function heapAfterGc(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('heap figures need --expose-gc');
  let last = Infinity;
  for (let i = 0; i < 6; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
    gc();
    const h = process.memoryUsage().heapUsed;
    if (Math.abs(h - last) < 2048) return h;
    last = h;
  }
  return last;
}
