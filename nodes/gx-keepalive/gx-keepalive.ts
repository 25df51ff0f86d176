// gx-keepalive: keeps the bridge alive from a flow and reports full_publish_completed.
import { AliveStatus } from '../../src/nodes/alive-status';
import { KeepaliveController } from '../../src/nodes/keepalive-controller';
import { attachToConfig, configOf, Node, NodeAPI, PaletteDef } from '../../src/nodes/red';

interface Def extends PaletteDef {
  interval?: number | string;
  suppress?: boolean | string;
  echo?: boolean | string;
}

const bool = (v: unknown, dflt: boolean) => (v === undefined || v === '' ? dflt : v === true || v === 'true');

export = function register(RED: NodeAPI): void {
  function GxKeepalive(this: Node, def: Def) {
    RED.nodes.createNode(this, def);
    const engine = configOf(RED, def)?.engine;
    if (!engine) {
      attachToConfig(RED, this, def); // shows and logs why
      this.on('input', (_msg, _send, done) => done(new Error('no usable gx-config node')));
      return;
    }
    const interval = Number(def.interval ?? 30);
    const controller = new KeepaliveController(engine, {
      interval: Number.isFinite(interval) && interval > 0 ? interval : 0,
      suppress: bool(def.suppress, true),
      echo: bool(def.echo, true),
    }, (m) => this.send(m as never));
    const status = new AliveStatus(engine, (s) => this.status(s));
    let wasConnected = false;
    attachToConfig(RED, this, def, (s) => {
      // whenever the GX (and its broker) become connected, a full keep-alive brings clients up to date
      const isConnected = s.fill === 'green';
      if (isConnected && !wasConnected) setImmediate(() => controller.connected());
      wasConnected = isConnected;
      status.connectionStatus(s);
    });
    this.on('input', (msg, _send, done) => {
      try {
        controller.send(msg.payload);
        done();
      } catch (e) {
        done(e as Error);
      }
    });
    this.on('close', () => {
      status.close();
      controller.close();
    });
  }
  RED.nodes.registerType('gx-keepalive', GxKeepalive as never);
};
