// gx-write: writes msg.payload to an item and reports the outcome.
import { WriteController } from '../../src/nodes/write-controller';
import { attachToConfig, Node, NodeAPI, PaletteDef } from '../../src/nodes/red';
import { clip, Status } from '../../src/nodes/status';

export = function register(RED: NodeAPI): void {
  function GxWrite(this: Node, def: PaletteDef & { path?: string }) {
    RED.nodes.createNode(this, def);
    const config = attachToConfig(RED, this, def);
    if (!config?.engine) {
      this.on('input', (_msg, _send, done) => done(new Error('no usable gx-config node')));
      return;
    }
    const controller = new WriteController(config.engine, def.path ?? '');
    this.on('input', (msg, send, done) => {
      this.status(Status.busy('writing'));
      controller.write(msg.topic, msg.payload).then((result) => {
        send({ ...msg, payload: result });
        if (result.ok) {
          this.status(Status.ok(clip(`written ${JSON.stringify(result.value)}`, 20)));
          done();
        } else {
          this.status(Status.failed('write failed'));
          done(new Error(`write to ${result.topic} failed: ${result.error}`));
        }
      }, (err: Error) => {
        this.status(Status.failed('write failed'));
        done(err);
      });
    });
  }
  RED.nodes.registerType('gx-write', GxWrite as never);
};
