// gx-read: reads an item or a sub-tree on input.
import { DESCRIPTIVE_KEYS } from '../../src/nodes/item-message';
import { ReadController } from '../../src/nodes/read-controller';
import { attachToConfig, flag, Node, NodeAPI, PaletteDef, statusOf } from '../../src/nodes/red';
import { markStale } from '../../src/nodes/stale-mark';
import { count, Status } from '../../src/nodes/status';

interface Def extends PaletteDef {
  path?: string;
  payloadMode?: string;
  revealSecrets?: boolean | string;
}

export = function register(RED: NodeAPI): void {
  function GxRead(this: Node, def: Def) {
    RED.nodes.createNode(this, def);
    const status = statusOf(this);
    const config = attachToConfig(RED, this, def, status);
    if (!config?.engine) return;
    const engine = config.engine;
    const controller = new ReadController(engine, def.path ?? '', {
      payloadMode: def.payloadMode === 'object' ? 'object' : 'value',
      revealSecrets: flag(def.revealSecrets),
    });
    this.on('input', (msg, send, done) => {
      status.set(Status.busy('reading'));
      controller.read(msg.topic).then((items) => {
        // one message per item, each a copy of the input with topic, payload and gx replaced;
        // text, label, unit and enum are this item's or absent (never the input's, e.g. from gx-notify)
        send([items.map((m) => {
          const copy = RED.util.cloneMessage(msg) as Record<string, unknown>;
          for (const k of DESCRIPTIVE_KEYS) delete copy[k];
          return { ...copy, ...markStale(engine, m) };
        })]);
        status.set(Status.ok(count(items.length, 'item')));
        done();
      }, (err: Error) => {
        // no message: the help promises one message per item read; the error goes to Catch
        status.set(Status.failed('read failed'));
        done(err);
      });
    });
  }
  RED.nodes.registerType('gx-read', GxRead as never);
};
