// gx-write: writes msg.payload (or msg.payload.value) to an item, typed as the item is, and
// reports the outcome (unlike dbus-flashmq and dbus-mqtt, failures are never silent). The
// configured path wins over msg.topic. Every outcome is a WriteResult, failures included:
// a bad topic, a missing or unwritable payload, no D-Bus, no portal ID.
import { GxEngine, WriteOptions, WriteResult } from '../bridge/engine';
import { JsonLiteral, JsonSyntaxError, literalFromJs } from '../bridge/json-literal';
import type { ItemAddress } from '../bridge/topics';
import { noPortal, notConnected } from './read-controller';
import { targetOf } from './target';

/** A write's outcome as gx-write outputs it: without topic and path when no item was named. */
export type FlowWriteResult = Omit<WriteResult, 'topic' | 'path'> & { topic?: string; path?: string };

/** A message understood: the item and the value to write, or the failure that says why not. */
export type PreparedWrite =
  | { ok: true; addr: ItemAddress; lit: JsonLiteral }
  | { ok: false; result: FlowWriteResult };

/**
 * Why gx-write does not write null unless the node allows it: null is D-Bus's "invalid" (an
 * empty array), which a device shows when it has no value, and what gx-notify sends when an
 * item vanishes; passed on by a flow by mistake it would blank a device's setting.
 */
export const NULL_REFUSED = 'not written: null would write "invalid" (an empty value) to the item; tick ' +
  '"Allow writing invalid (null)" in this node to write it on purpose';
/** A gx-notify message about an item that went away carries no value for anything (msg.gx.cause). */
export const VANISH_REFUSED = 'not written: the message says that an item vanished (msg.gx.cause is "vanish"), ' +
  'it carries no value to write';

export class WriteController {
  /** `allowInvalid`: write null (the "invalid" value) when a message asks for it */
  constructor(private readonly engine: GxEngine, private readonly path: string, private readonly allowInvalid = false) {}

  async write(msgTopic: unknown, payload: unknown): Promise<FlowWriteResult> {
    const p = this.prepare(msgTopic, payload);
    return p.ok ? this.writeTo(p.addr, p.lit) : p.result;
  }

  /** The item a message names (the configured path wins), or why it names none. */
  target(msgTopic: unknown): { addr?: ItemAddress; error?: string } {
    try {
      return { addr: targetOf(msgTopic, this.path, this.engine.portalId) };
    } catch (e) {
      return { error: (e as Error).message };
    }
  }

  prepare(msgTopic: unknown, payload: unknown): PreparedWrite {
    const t = this.target(msgTopic);
    if (!t.addr) return { ok: false, result: this.failed(undefined, t.error!) };
    const addr = t.addr;
    if (payload === undefined) return { ok: false, result: this.failed(addr, 'msg.payload is missing: send the value, or {"value": …}') };
    if (valueOf(payload) === null && !this.allowInvalid) return { ok: false, result: this.failed(addr, NULL_REFUSED) };
    try {
      return { ok: true, addr, lit: literalFromJs(valueOf(payload)) };
    } catch (e) {
      return { ok: false, result: this.failed(addr, `cannot write that value: ${e instanceof JsonSyntaxError ? e.message : String(e)}`) };
    }
  }

  /** One write through the engine's write path (policy, types, min/max, limits), as every write. */
  async writeTo(addr: ItemAddress, lit: JsonLiteral, opts?: WriteOptions): Promise<FlowWriteResult> {
    if (this.engine.sourceState !== 'connected') return this.failed(addr, notConnected(this.engine));
    if (!this.engine.portalId) return this.failed(addr, noPortal);
    return this.engine.writeLiteral(addr, lit, 'flow', opts);
  }

  failed(addr: ItemAddress | undefined, error: string): FlowWriteResult {
    const r: FlowWriteResult = { ok: false, error, source: 'flow' };
    const portal = this.engine.portalId;
    if (addr && portal) r.topic = `W/${portal}/${addr.type}/${addr.instance}${addr.path}`;
    if (addr) r.path = addr.path;
    return r;
  }
}

/** msg.payload, or the value of a `{value: …}` object as in an MQTT write request. */
export function valueOf(payload: unknown): unknown {
  return isValueObject(payload) ? payload.value : payload;
}

function isValueObject(p: unknown): p is { value: unknown } {
  return typeof p === 'object' && p !== null && !Array.isArray(p) && !Buffer.isBuffer(p) && 'value' in p;
}

/** Whether a message is gx-notify's word that an item went away (never written, see VANISH_REFUSED). */
export function isVanish(msg: { gx?: unknown }): boolean {
  const gx = msg.gx;
  return typeof gx === 'object' && gx !== null && (gx as { cause?: unknown }).cause === 'vanish';
}
