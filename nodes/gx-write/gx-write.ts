// gx-write: writes msg.payload to an item and reports the outcome: every write, failed or
// not, sends its result message; a failure also goes to done(err) (Catch nodes, or Node-RED's
// log once when there is no Catch node).
import { WriteController } from '../../src/nodes/write-controller';
import { attachToConfig, Node, NodeAPI, PaletteDef, statusOf } from '../../src/nodes/red';
import { Status } from '../../src/nodes/status';
import { UnconfirmedLog, writtenStatus } from '../../src/nodes/write-outcome';

/** How long a redeploy waits for a write in flight before the node closes. */
const CLOSE_WAIT_MS = 5000;

export = function register(RED: NodeAPI): void {
  function GxWrite(this: Node, def: PaletteDef & { path?: string }) {
    RED.nodes.createNode(this, def);
    const status = statusOf(this);
    const config = attachToConfig(RED, this, def, status);
    if (!config?.engine) return;
    const controller = new WriteController(config.engine, def.path ?? '');
    const inFlight = new Set<Promise<void>>();
    const unconfirmed = new UnconfirmedLog((t) => this.warn(t));
    this.on('input', (msg, send, done) => {
      status.set(Status.busy('writing'));
      const write = config.trackWrite(controller.write(msg.topic, msg.payload)).then((result) => {
        send({ ...msg, payload: result });
        if (result.ok) {
          // "sent, not confirmed" (a GX over MQTT said nothing) is no failure: see write-outcome.ts
          status.set(writtenStatus(result));
          unconfirmed.note(result);
          done();
        } else {
          status.set(Status.failed('write failed'));
          done(new Error(result.topic ? `write to ${result.topic} failed: ${result.error}` : `write failed: ${result.error}`));
        }
      }, (err: Error) => {
        // not expected (the controller turns failures into results), but never silent
        const result = { ok: false, error: err.message, source: 'flow' };
        send({ ...msg, payload: result });
        status.set(Status.failed('write failed'));
        done(err);
      }).catch((e: Error) => this.error(e.message));
      inFlight.add(write);
      write.finally(() => inFlight.delete(write));
    });
    // a redeploy during a write: the write completes and reports before the node goes
    this.on('close', (_removed: boolean, done: () => void) => {
      if (inFlight.size === 0) return done();
      const timer = setTimeout(done, CLOSE_WAIT_MS);
      Promise.allSettled([...inFlight]).then(() => {
        clearTimeout(timer);
        done();
      });
    });
  }
  RED.nodes.registerType('gx-write', GxWrite as never);
};
