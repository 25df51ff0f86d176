// gx-notify: notifications from the GX as flow messages.
import { NotifyController, NotifyOptions } from '../../src/nodes/notify-controller';
import { AliveStatus } from '../../src/nodes/alive-status';
import { attachToConfig, configOf, Node, NodeAPI, PaletteDef } from '../../src/nodes/red';
import { Status } from '../../src/nodes/status';

type Def = PaletteDef & Partial<Omit<NotifyOptions, 'initial' | 'changesOnly'>> & { initial?: boolean | string; changesOnly?: boolean | string };

export = function register(RED: NodeAPI): void {
  function GxNotify(this: Node, def: Def) {
    RED.nodes.createNode(this, def);
    const engine = configOf(RED, def)?.engine;
    // "only while kept alive": the status also says whether the bridge is alive
    const aliveStatus = engine && def.when === 'alive' ? new AliveStatus(engine, (s) => this.status(s)) : undefined;
    const config = attachToConfig(RED, this, def, aliveStatus ? (s) => aliveStatus.connectionStatus(s) : undefined);
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
        initial: def.initial === true || def.initial === 'true',
        changesOnly: def.changesOnly === true || def.changesOnly === 'true',
        payloadMode: def.payloadMode === 'object' ? 'object' : 'value',
      }, (msg) => this.send(msg as never));
    } catch (e) {
      this.status(Status.failed('bad filter'));
      this.error((e as Error).message);
      return;
    }
  }
  RED.nodes.registerType('gx-notify', GxNotify as never);
};
