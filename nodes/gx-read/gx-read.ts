// gx-read: reads an item or a sub-tree on input.
import { ReadController } from '../../src/nodes/read-controller';
import { attachToConfig, Node, NodeAPI, PaletteDef } from '../../src/nodes/red';
import { Status } from '../../src/nodes/status';

export = function register(RED: NodeAPI): void {
  function GxRead(this: Node, def: PaletteDef & { path?: string; payloadMode?: string }) {
    RED.nodes.createNode(this, def);
    const config = attachToConfig(RED, this, def);
    if (!config?.engine) {
      this.on('input', (_msg, _send, done) => done(new Error('no usable gx-config node')));
      return;
    }
    const controller = new ReadController(config.engine, def.path ?? '', def.payloadMode === 'object' ? 'object' : 'value');
    this.on('input', (msg, send, done) => {
      this.status(Status.busy('reading'));
      controller.read(msg.topic).then((items) => {
        send([items.map((m) => ({ ...RED.util.cloneMessage(msg), ...m }))]);
        this.status(Status.ok(`${items.length} item${items.length === 1 ? '' : 's'}`));
        done();
      }, (err: Error) => {
        this.status(Status.failed('read failed'));
        done(err);
      });
    });
  }
  RED.nodes.registerType('gx-read', GxRead as never);
};
