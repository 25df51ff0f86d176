// gx-notify: notifications from the GX as flow messages.
import { NotifyController, NotifyOptions } from '../../src/nodes/notify-controller';
import { attachToConfig, Node, NodeAPI, PaletteDef } from '../../src/nodes/red';
import { Status } from '../../src/nodes/status';

type Def = PaletteDef & Partial<Omit<NotifyOptions, 'initial' | 'changesOnly'>> & { initial?: boolean | string; changesOnly?: boolean | string };

export = function register(RED: NodeAPI): void {
  function GxNotify(this: Node, def: Def) {
    RED.nodes.createNode(this, def);
    const config = attachToConfig(RED, this, def);
    if (!config?.engine) return;
    let controller: NotifyController | undefined;
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
    this.on('close', () => controller?.close());
  }
  RED.nodes.registerType('gx-notify', GxNotify as never);
};
