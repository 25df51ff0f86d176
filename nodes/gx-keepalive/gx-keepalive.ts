// gx-keepalive: keeps the bridge alive from a flow and reports full_publish_completed.
import { AliveStatus } from '../../src/nodes/alive-status';
import { KeepaliveController } from '../../src/nodes/keepalive-controller';
import { attachToConfig, configOf, configProblem, flag, Node, NodeAPI, PaletteDef, statusOf } from '../../src/nodes/red';

interface Def extends PaletteDef {
  interval?: number | string;
  suppress?: boolean | string;
  echo?: boolean | string;
  /** 'node' (default): the node's settings decide; 'msg': a non-empty msg.payload is sent as the options */
  options?: string;
}

export = function register(RED: NodeAPI): void {
  function GxKeepalive(this: Node, def: Def) {
    RED.nodes.createNode(this, def);
    const status = statusOf(this);
    const config = configProblem(RED, def) ? undefined : configOf(RED, def);
    const engine = config?.engine;
    if (!config || !engine) {
      attachToConfig(RED, this, def, status); // shows and logs why; messages go to done(err)
      return;
    }
    const interval = Number(def.interval ?? 30);
    const controller = new KeepaliveController(engine, {
      interval: Number.isFinite(interval) && interval > 0 ? interval : 0,
      suppress: flag(def.suppress, true),
      echo: flag(def.echo, true),
      optionsFrom: def.options === 'msg' ? 'msg' : 'node',
    }, (m) => this.send(m as never), () => config.refreshSource()); // a GX over MQTT: fresh values first
    const alive = new AliveStatus(engine, (s) => status.set(s));
    let wasConnected = false;
    let closed = false;
    // the keep-alive is for the bridge's clients: this node shows the broker's state too
    attachToConfig(RED, this, def, status, {
      needsBroker: true,
      onStatus: (s) => {
        // whenever the GX (and its broker) become connected, a full keep-alive brings clients up to date
        const isConnected = s.fill === 'green';
        if (isConnected && !wasConnected) setImmediate(() => { if (!closed) controller.connected(); });
        wasConnected = isConnected;
        alive.connectionStatus(s);
      },
    });
    this.on('input', (msg, _send, done) => {
      controller.request(msg.payload).then(() => done(), (e: Error) => done(e));
    });
    this.on('close', () => {
      closed = true;
      alive.close();
      controller.close();
    });
  }
  RED.nodes.registerType('gx-keepalive', GxKeepalive as never);
};
