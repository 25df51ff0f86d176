// gx-read: reads an item or a sub-tree from D-Bus (never from the cache) and answers one
// message per item.
import { GxEngine } from '../bridge/engine';
import { ItemMessage, itemMessage, PayloadMode } from './item-message';
import { targetOf } from './target';

export class ReadController {
  constructor(private readonly engine: GxEngine, private readonly path: string, private readonly payloadMode: PayloadMode = 'value') {}

  async read(msgTopic: unknown): Promise<ItemMessage[]> {
    if (this.engine.sourceState !== 'connected') throw new Error(`not connected to D-Bus (${this.engine.sourceState})`);
    const addr = targetOf(msgTopic, this.path, this.engine.portalId);
    const items = await this.engine.read(addr, { acceptLeaf: true });
    return items.map((r) => itemMessage(r, 'read', this.engine.portalId, this.payloadMode));
  }
}
