// Imported first by gx-bridge: a bridge on a GX should stay small. Two V8 settings, for
// gx-bridge's own process only (the Node-RED nodes never change V8's settings):
// - V8 grows its young generation (new space) from 1 MiB per semi-space up to 16 MiB whenever
//   many objects survive a scavenge, as they do while modules load and D-Bus replies are parsed,
//   and keeps it: 6 MiB or more resident for good. Left at its first size it is swept more often
//   (a fraction of a millisecond each);
// - optimize-for-size: V8's heuristics that favour memory over speed (heap growth, code kept);
//   no measurable cost on a full publish or the change stream (bench S1, S2), 1.5 MiB less.
// Together some 6 MiB less resident (bench S4: gx-bridge at ESS 64 → 58.5 MiB).
import * as v8 from 'v8';

v8.setFlagsFromString('--semi-space-growth-factor=1');
v8.setFlagsFromString('--optimize-for-size');
