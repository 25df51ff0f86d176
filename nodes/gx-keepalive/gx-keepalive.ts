// gx-keepalive: keeps the bridge alive from a flow and reports full_publish_completed.
import { KeepaliveController } from '../../src/nodes/keepalive-controller';
import { attachToConfig, Node, NodeAPI, PaletteDef } from '../../src/nodes/red';
import { NodeStatus, Status } from '../../src/nodes/status';

interface Def extends PaletteDef {
  interval?: number | string;
  suppress?: boolean | string;
  echo?: boolean | string;
}

const bool = (v: unknown, dflt: boolean) => (v === undefined || v === '' ? dflt : v === true || v === 'true');

export = function register(RED: NodeAPI): void {
  function GxKeepalive(this: Node, def: Def) {
    RED.nodes.createNode(this, def);
    let controller: KeepaliveController | undefined = undefined;
    let wasConnected = false;
    let alive = false;
    const show = (connection: NodeStatus) => {
      if (connection.fill !== 'green') this.status(connection);
      else this.status(alive ? Status.ok('alive') : Status.idle('not alive'));
    };
    let lastConnection: NodeStatus = Status.connecting();
    const config = attachToConfig(RED, this, def, (s) => {
      lastConnection = s;
      const isConnected = s.fill === 'green';
      if (isConnected && !wasConnected) setImmediate(() => controller?.connected());
      wasConnected = isConnected;
      show(s);
    });
    const engine = config?.engine;
    if (!engine) {
      this.on('input', (_msg, _send, done) => done(new Error('no usable gx-config node')));
      return;
    }
    const interval = Number(def.interval ?? 30);
    controller = new KeepaliveController(engine, {
      interval: Number.isFinite(interval) && interval > 0 ? interval : 0,
      suppress: bool(def.suppress, true),
      echo: bool(def.echo, true),
    }, (m) => this.send(m as never));
    const onAlive = (a: boolean) => {
      alive = a;
      show(lastConnection);
    };
    engine.on('alive', onAlive);
    this.on('input', (msg, _send, done) => {
      try {
        controller!.send(msg.payload);
        done();
      } catch (e) {
        done(e as Error);
      }
    });
    this.on('close', () => {
      engine.removeListener('alive', onAlive);
      controller!.close();
    });
  }
  RED.nodes.registerType('gx-keepalive', GxKeepalive as never);
};
