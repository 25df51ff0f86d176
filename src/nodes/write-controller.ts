// gx-write: writes msg.payload (or msg.payload.value) to an item, typed as the item is, and
// reports the outcome (unlike dbus-flashmq and dbus-mqtt, failures are never silent). The
// configured path wins over msg.topic. Every outcome is a WriteResult, failures included:
// a bad topic, a missing or unwritable payload, no D-Bus, no portal ID.
import { GxEngine, WriteResult } from '../bridge/engine';
import { JsonSyntaxError, literalFromJs } from '../bridge/json-literal';
import type { ItemAddress } from '../bridge/topics';
import { noPortal, notConnected } from './read-controller';
import { targetOf } from './target';

/** A write's outcome as gx-write outputs it: without topic and path when no item was named. */
export type FlowWriteResult = Omit<WriteResult, 'topic' | 'path'> & { topic?: string; path?: string };

export class WriteController {
  constructor(private readonly engine: GxEngine, private readonly path: string) {}

  async write(msgTopic: unknown, payload: unknown): Promise<FlowWriteResult> {
    let addr: ItemAddress | undefined;
    const failed = (error: string): FlowWriteResult => {
      const r: FlowWriteResult = { ok: false, error, source: 'flow' };
      const portal = this.engine.portalId;
      if (addr && portal) r.topic = `W/${portal}/${addr.type}/${addr.instance}${addr.path}`;
      if (addr) r.path = addr.path;
      return r;
    };
    try {
      addr = targetOf(msgTopic, this.path, this.engine.portalId);
    } catch (e) {
      return failed((e as Error).message);
    }
    if (payload === undefined) return failed('msg.payload is missing: send the value, or {"value": …}');
    const value = isValueObject(payload) ? payload.value : payload;
    let lit;
    try {
      lit = literalFromJs(value);
    } catch (e) {
      return failed(`cannot write that value: ${e instanceof JsonSyntaxError ? e.message : String(e)}`);
    }
    if (this.engine.sourceState !== 'connected') return failed(notConnected(this.engine));
    if (!this.engine.portalId) return failed(noPortal);
    return this.engine.writeLiteral(addr, lit, 'flow');
  }
}

function isValueObject(p: unknown): p is { value: unknown } {
  return typeof p === 'object' && p !== null && !Array.isArray(p) && !Buffer.isBuffer(p) && 'value' in p;
}
