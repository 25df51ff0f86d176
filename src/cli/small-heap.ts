// Imported first by gx-bridge: a bridge on a GX should stay small, without paying for it in
// CPU. One V8 setting, for gx-bridge's own process only (the Node-RED nodes never change V8's
// settings): the young generation (new space) is kept at its first size (1 MiB per semi-space)
// while gx-bridge's modules load. V8 grows it up to 16 MiB whenever many objects survive a
// scavenge, as they do while modules load, and keeps what it grew: some 6 MiB resident for good
// (bench S4: gx-bridge at ESS 64.6 → 58.5 MiB). From the start of the bridge on
// (youngGenerationFree) it grows with the work again. Measured, and not kept:
// - the young generation left small for good: under a stream of changes scavenges took 39 % of
//   gx-bridge's CPU against 8–11 % (bench S2 --cpu-prof), and the start at 100 000 items took
//   2.0 s against 1.1 s (S5);
// - V8's --optimize-for-size: 4 MiB less, but it holds the young generation small in the
//   same way (scavenges 21 % of the CPU), and cold start at 100 000 items 2.9 s.
import * as v8 from 'v8';

v8.setFlagsFromString('--semi-space-growth-factor=1');

/** Everything is loaded: from now on the young generation grows with the work (V8's default factor). */
export function youngGenerationFree(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=2');
}
