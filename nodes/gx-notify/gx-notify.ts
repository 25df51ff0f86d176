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
  /** ms; '' or 0 = every change */
  rateLimit?: number | string;
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
        // on unless the node says otherwise (flows from before the option default was on saved false)
        changesOnly: flag(def.changesOnly, true),
        payloadMode: def.payloadMode === 'object' ? 'object' : 'value',
        revealSecrets: flag(def.revealSecrets),
        minIntervalMs: rateLimitOf(def.rateLimit),
      }, (msg) => this.send(markStale(config.engine!, msg) as never));
      (this as Node & { controller?: NotifyController }).controller = controller; // for tests and tools, as gx-config's
    } catch (e) {
      status.set(Status.failed(/rate limit/.test((e as Error).message) ? 'bad rate limit' : 'bad filter'));
      this.error((e as Error).message);
      return;
    }
  }
  RED.nodes.registerType('gx-notify', GxNotify as never);
};

/** The rate limit in ms ('' or 0: off); a value that is no number of ms is refused on deploy. */
function rateLimitOf(v: unknown): number {
  if (v === undefined || v === null || v === '') return 0;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`the rate limit must be a number of milliseconds (empty or 0 = every change), not '${String(v)}'`);
  return n;
}
