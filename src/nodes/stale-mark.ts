// While a GX reached over MQTT is stale (connected, but nothing heard from it for a while), the
// values flows get are the last ones known, not fresh ones: gx-notify and gx-read messages then
// carry msg.gx.stale = true. Absent otherwise (and always for a GX on D-Bus), so that flows
// written before keep the messages they had.
import type { GxEngine } from '../bridge/engine';

export function markStale<T extends { gx: object }>(engine: GxEngine, msg: T): T {
  if (engine.stale) (msg.gx as { stale?: boolean }).stale = true;
  return msg;
}
