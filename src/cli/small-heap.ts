// Imported first by gx-bridge: a bridge on a GX should stay small. V8 grows its young generation
// (new space) from 1 MiB per semi-space up to 16 MiB whenever many objects survive a scavenge, as
// they do while D-Bus replies are parsed, and keeps it: 6 MiB or more resident for the rest of
// the process. Left at its first size, the young generation is swept more often (a fraction of a
// millisecond each) and the process stays some 5 MiB smaller. Only gx-bridge's own process does
// this; the Node-RED nodes never change V8's settings.
import * as v8 from 'v8';

v8.setFlagsFromString('--semi-space-growth-factor=1');
