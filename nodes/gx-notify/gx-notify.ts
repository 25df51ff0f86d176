// gx-notify: notifications from the GX as flow messages.
import { NotifyController } from '../../src/nodes/notify-controller';
import { AliveStatus } from '../../src/nodes/alive-status';
import { attachToConfig, configProblem, configOf, flag, Node, NodeAPI, PaletteDef, statusOf } from '../../src/nodes/red';
import { markStale } from '../../src/nodes/stale-mark';
import { Status } from '../../src/nodes/status';

interface Def extends PaletteDef {
  filter?: string;
  when?: string;
  payloadMode?: string;
  initial?: boolean | string;
  changesOnly?: boolean | string;
  revealSecrets?: boolean | string;
}

export = function register(RED: NodeAPI): void {
  function GxNotify(this: Node, def: Def) {
    RED.nodes.createNode(this, def);
    const status = statusOf(this);
    const engine = configProblem(RED, def) ? undefined : configOf(RED, def)?.engine;
    // "only while kept alive": the status also says whether the bridge is alive
    const aliveStatus = engine && def.when === 'alive' ? new AliveStatus(engine, (s) => status.set(s)) : undefined;
    const config = attachToConfig(RED, this, def, status, { onStatus: aliveStatus ? (s) => aliveStatus.connectionStatus(s) : undefined });
    let controller: NotifyController | undefined = undefined;
    this.on('close', () => {
      aliveStatus?.close();
      controller?.close();
    });
    if (!config?.engine) return;
    try {
      controller = new NotifyController(config.engine, {
        filter: def.filter ?? '#',
        when: def.when === 'alive' ? 'alive' : 'always',
        initial: flag(def.initial),
        changesOnly: flag(def.changesOnly),
        payloadMode: def.payloadMode === 'object' ? 'object' : 'value',
        revealSecrets: flag(def.revealSecrets),
      }, (msg) => this.send(markStale(config.engine!, msg) as never));
    } catch (e) {
      status.set(Status.failed('bad filter'));
      this.error((e as Error).message);
      return;
    }
  }
  RED.nodes.registerType('gx-notify', GxNotify as never);
};
