// gx-write: writes msg.payload (or msg.payload.value) to an item, typed as the item is, and
// reports the outcome (unlike dbus-flashmq and dbus-mqtt, failures are never silent).
import { GxEngine, WriteResult } from '../bridge/engine';
import { JsonSyntaxError, literalFromJs } from '../bridge/json-literal';
import { targetOf } from './target';

export class WriteController {
  constructor(private readonly engine: GxEngine, private readonly path: string) {}

  async write(msgTopic: unknown, payload: unknown): Promise<WriteResult> {
    const addr = targetOf(msgTopic, this.path, this.engine.portalId);
    if (payload === undefined) throw new Error('msg.payload is missing: send the value, or {"value": …}');
    const value = isValueObject(payload) ? payload.value : payload;
    let lit;
    try {
      lit = literalFromJs(value);
    } catch (e) {
      if (e instanceof JsonSyntaxError) throw new Error(`cannot write that value: ${e.message}`);
      throw e;
    }
    if (this.engine.sourceState !== 'connected') throw new Error(`not connected to D-Bus (${this.engine.sourceState})`);
    return this.engine.writeLiteral(addr, lit, 'flow');
  }
}

function isValueObject(p: unknown): p is { value: unknown } {
  return typeof p === 'object' && p !== null && !Array.isArray(p) && !Buffer.isBuffer(p) && 'value' in p;
}
