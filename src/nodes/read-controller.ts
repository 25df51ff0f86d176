// gx-read: reads an item or a sub-tree from D-Bus (never from the cache) and answers one
// message per item. The configured path wins over msg.topic. A read that finds nothing is an
// error, never a silent success; paths MQTT never publishes (N6) are read all the same, since
// blocking stops publishing, not reading (W10).
import { GxEngine } from '../bridge/engine';
import { ItemMessage, itemMessage, MessageOptions, PayloadMode } from './item-message';
import { targetOf } from './target';

export interface ReadNodeOptions {
  payloadMode?: PayloadMode;
  /** the BLE pincode and the access-point password in clear (explicit opt-in; default masked) */
  revealSecrets?: boolean;
}

export class ReadController {
  private readonly msgOpts: MessageOptions;

  constructor(private readonly engine: GxEngine, private readonly path: string, opts: ReadNodeOptions | PayloadMode = {}) {
    const o = typeof opts === 'string' ? { payloadMode: opts } : opts;
    this.msgOpts = { payloadMode: o.payloadMode ?? 'value', revealSecrets: o.revealSecrets === true };
  }

  async read(msgTopic: unknown): Promise<ItemMessage[]> {
    const addr = targetOf(msgTopic, this.path, this.engine.portalId);
    if (this.engine.sourceState !== 'connected') throw new Error(notConnected(this.engine));
    const portal = this.engine.portalId;
    if (!portal) throw new Error(noPortal);
    const items = await this.engine.read(addr, { acceptLeaf: true, includeBlocked: true });
    const where = `${addr.type}/${addr.instance}${addr.path}`;
    if (items.length === 0) throw new Error(`nothing to read at ${where}: the D-Bus answer holds no items (an empty sub-tree)`);
    return items.map((r) => itemMessage(r, 'read', portal, this.msgOpts));
  }
}

/** Why a read or write cannot go out now: the GX's D-Bus, or the GX over MQTT, is not connected. */
export function notConnected(engine: GxEngine): string {
  const label = engine.source.label;
  return label ? `not connected to the GX at ${label}: ${engine.sourceState}` : `not connected to D-Bus (${engine.sourceState})`;
}

export const noPortal = 'the portal ID is not known: this D-Bus has no com.victronenergy.system /Serial; ' +
  'set the Portal ID in the GX config node';
