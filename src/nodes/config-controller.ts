// The gx-config node's behaviour: it owns one GxGateway (the GX's source: its D-Bus, or the
// GX over MQTT on the LAN or through VRM; the engine; and, when a broker is set, the broker
// link), lets the palette nodes register with it, fans its connection status out to them, and
// releases everything on close (model: core 10-mqtt). The status says what is wrong in a few
// words; the log says why, once per distinct reason.
import { Logger, WriteResult } from '../bridge/engine';
import { limitLogger } from '../bridge/log-limiter';
import { parseWritePatterns, WritePolicy } from '../bridge/write-policy';
import { GxGateway } from '../gateway';
import { BrokerLinkOptions, normalizeTopicPrefix, redactUrl, TlsOptions } from '../mqtt/broker-link';
import { ItemList, listItems, ListQuery } from './item-listing';
import { hasUrlCredentials, SourceCredentials, SourceDef, SourceOverrides, sourceOptionsOf } from './source-options';
import { SourceStatus } from './source-status';
import { NodeStatus, sameStatus, Status } from './status';

export { effectiveDbusAddress, hasUrlCredentials } from './source-options';

export interface GxConfigDef extends SourceDef {
  name?: string;
  /** the config's version (migrations.ts); absent in flows saved before versions */
  version?: number | string;
  mode?: string;
  broker?: string;
  clientId?: string;
  /** put before every topic on the broker (victron/ → victron/N/…) */
  topicPrefix?: string;
  writePolicy?: string;
  writePatterns?: string;
  aliveSeconds?: number | string;
}

/** The broker's login (username, password) and the GX's (see SourceCredentials). */
export interface GxConfigCredentials extends SourceCredentials {
  username?: string;
  password?: string;
}

/** TLS for the broker bridged to, and for the GX's own broker (its tls-config nodes). */
export interface GxConfigTls {
  broker?: TlsOptions;
  gx?: TlsOptions;
}

/** What a palette node hands to its config node when it registers. */
export interface GxUser {
  id: string;
  status(s: NodeStatus): void;
  /**
   * the node's work depends on the broker (gx-keepalive): it is shown the broker's state too.
   * The others (gx-notify, gx-read, gx-write) work with the GX alone and see only its state.
   */
  needsBroker?: boolean;
}

/** How long a closing config node waits for flow writes still in flight. */
const CLOSE_WAIT_MS = 5000;

export class GxConfigController {
  readonly gateway: GxGateway | undefined;
  /** why the gateway could not be built (bad address, bad pattern…) */
  readonly configError: string | undefined;
  private readonly users = new Map<string, GxUser>();
  private gxStatus: NodeStatus = Status.connecting();
  private fullStatus: NodeStatus = Status.connecting();
  private closed = false;
  private readonly log: Logger;
  private readonly sourceStatus: SourceStatus | undefined;
  private portalWarned = false;
  private readonly writesInFlight = new Set<Promise<unknown>>();
  /** a "write … refused" line of the engine, held until its write-result says who wrote */
  private heldWriteLine: string | undefined;
  private readonly onChange = () => this.update();
  private readonly onSourceState = (state: string, detail?: string) => {
    this.sourceStatus?.stateChanged(state, detail);
    this.update();
  };
  private readonly onWriteResult = (r: WriteResult) => this.releaseWriteLine(r.source === 'flow');

  constructor(def: GxConfigDef, creds: GxConfigCredentials, tls: GxConfigTls, log: Logger, overrides: SourceOverrides = {}) {
    this.log = log;
    let gateway: GxGateway | undefined;
    let error: string | undefined;
    try {
      gateway = new GxGateway({
        logger: limitLogger(this.engineLogger(log)),
        ...sourceOptionsOf(def, creds, tls.gx, overrides),
        engine: {
          portalId: def.portalId?.trim() || undefined,
          mode: def.mode === 'legacy' ? 'legacy' : 'flashmq',
          writePolicy: writePolicyOf(def),
          timing: aliveMsOf(def),
        },
        broker: brokerOf(def, creds, tls.broker),
      });
    } catch (e) {
      error = (e as Error).message;
      log.error(`GX config: ${error}`);
    }
    this.gateway = gateway;
    this.configError = error;
    if (!gateway) {
      this.gxStatus = this.fullStatus = Status.failed('config error');
      return;
    }
    this.sourceStatus = new SourceStatus(gateway, log);
    gateway.engine.on('state', this.onSourceState);
    gateway.engine.on('stale', this.onChange);
    gateway.remote?.on('problem', this.onChange);
    gateway.engine.on('portal', this.onChange);
    gateway.engine.on('scanned', this.onChange);
    gateway.engine.on('write-result', this.onWriteResult);
    gateway.link?.on('state', this.onChange);
    gateway.link?.on('problem', this.onChange);
    gateway.start();
    this.update();
  }

  get engine() {
    return this.gateway?.engine;
  }

  /** The status of the whole: the GX and, when there is one, the broker. */
  get status(): NodeStatus {
    return this.fullStatus;
  }

  /** The status of the GX alone (its connection, scan, portal ID), for nodes that do not use the broker. */
  get dbusStatus(): NodeStatus {
    return this.gxStatus;
  }

  /** How the GX is reached: 'dbus', or over MQTT ('lan', 'vrm'); undefined with a config error. */
  get sourceKind(): 'dbus' | 'lan' | 'vrm' | undefined {
    if (!this.gateway) return undefined;
    return this.gateway.remote ? (this.gateway.remote.vrm ? 'vrm' : 'lan') : 'dbus';
  }

  /**
   * Before a full republish to the engine's own clients (gx-keepalive): a GX over MQTT is asked
   * for a fresh full publish first and waited for (at most a few seconds), so that what is
   * republished is current. A stale GX is asked all the same, not waited for. Never rejects.
   */
  async refreshSource(timeoutMs = 5000): Promise<void> {
    const remote = this.gateway?.remote;
    if (!remote || remote.state !== 'connected') return;
    const asked = remote.refresh(timeoutMs).catch(() => false);
    if (remote.stale) return;
    if (!(await asked)) this.log.debug(`${remote.label}: no complete full publish within ${timeoutMs} ms; republishing what there is`);
  }

  // ---------------------------------------------------------------------------------------
  // Status and its reasons

  private computeGx(): NodeStatus {
    const gw = this.gateway!;
    const connection = this.sourceStatus!.current();
    if (connection) return connection;
    if (!gw.engine.initialScanDone) return Status.connecting('scanning');
    if (!gw.engine.portalId) {
      if (!this.portalWarned) {
        this.portalWarned = true;
        this.log.warn('no portal ID: this D-Bus has no com.victronenergy.system with a /Serial, and the Portal ID field of ' +
          'this GX config node is empty. Set the Portal ID (the GX\'s VRM portal ID, e.g. c0619ab1f00d); until then the ' +
          'nodes send no messages and the broker gets nothing');
      }
      return Status.failed('set the Portal ID');
    }
    return Status.connected();
  }

  private computeFull(gx: NodeStatus): NodeStatus {
    const link = this.gateway!.link;
    if (!link || gx.fill !== 'green' || link.state === 'connected') return gx;
    const problem = link.problem;
    if (problem) return problem.permanent ? Status.failed(problem.reason) : Status.connecting(problem.reason);
    return Status.connecting(link.state === 'connecting' ? 'broker connecting' : 'broker offline');
  }

  private update(): void {
    if (this.closed || !this.gateway) return;
    const gx = this.computeGx();
    const full = this.computeFull(gx);
    const gxChanged = !sameStatus(gx, this.gxStatus);
    const fullChanged = !sameStatus(full, this.fullStatus);
    this.gxStatus = gx;
    this.fullStatus = full;
    for (const u of this.users.values()) {
      if (u.needsBroker ? fullChanged : gxChanged) u.status(u.needsBroker ? full : gx);
    }
  }

  register(user: GxUser): void {
    this.users.set(user.id, user);
    user.status(user.needsBroker ? this.fullStatus : this.gxStatus);
  }

  deregister(user: GxUser): void {
    this.users.delete(user.id);
  }

  get userCount(): number {
    return this.users.size;
  }

  // ---------------------------------------------------------------------------------------
  // Flow writes: a redeploy waits for them, and their refusals are not logged twice

  /** Runs a write from a flow; closing the config node waits for it (bounded). */
  trackWrite<T>(write: Promise<T>): Promise<T> {
    this.writesInFlight.add(write);
    const forget = () => this.writesInFlight.delete(write);
    write.then(forget, forget);
    return write;
  }

  /**
   * The engine logs every refused write. A flow write's refusal reaches the flow (result
   * message, done(err) → Catch node or Node-RED's log) already, so the engine's line for it
   * goes to debug; an MQTT write's line stays a warning. The engine emits 'write-result'
   * right after that line, which tells the two apart.
   */
  private engineLogger(log: Logger): Logger {
    return {
      debug: (m) => log.debug(m),
      info: (m) => log.info(m),
      warn: (m) => {
        this.releaseWriteLine(false);
        if (/^write \S+ (refused|failed)\b/.test(m)) {
          this.heldWriteLine = m;
          queueMicrotask(() => this.releaseWriteLine(false));
        } else {
          log.warn(m);
        }
      },
      error: (m) => log.error(m),
    };
  }

  private releaseWriteLine(fromFlow: boolean): void {
    const line = this.heldWriteLine;
    if (line === undefined) return;
    this.heldWriteLine = undefined;
    if (fromFlow) this.log.debug(line);
    else this.log.warn(line);
  }

  // ---------------------------------------------------------------------------------------

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.users.clear();
    if (this.writesInFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.writesInFlight]),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, CLOSE_WAIT_MS); }),
      ]);
      clearTimeout(timer);
    }
    if (this.gateway) {
      this.gateway.engine.removeListener('state', this.onSourceState);
      for (const ev of ['portal', 'scanned', 'stale']) this.gateway.engine.removeListener(ev, this.onChange);
      this.gateway.remote?.removeListener('problem', this.onChange);
      this.gateway.engine.removeListener('write-result', this.onWriteResult);
      this.gateway.link?.removeListener('state', this.onChange);
      this.gateway.link?.removeListener('problem', this.onChange);
      await this.gateway.close();
    }
    this.releaseWriteLine(false);
  }

  /** Live items for the editors' path picker: filtered, paged, masked settings masked. */
  listItems(query: ListQuery = {}): ItemList {
    return listItems(this.engine, query);
  }
}

function writePolicyOf(def: GxConfigDef): WritePolicy {
  const mode = def.writePolicy === 'none' || def.writePolicy === 'patterns' ? def.writePolicy : 'all';
  if (mode !== 'patterns') return { mode };
  const patterns = parseWritePatterns(def.writePatterns ?? '');
  if (patterns.length === 0) throw new Error('the write policy allows only matching items, but no item filter is listed');
  return { mode, patterns };
}

function aliveMsOf(def: GxConfigDef): { aliveMs: number } | undefined {
  if (def.aliveSeconds === undefined || def.aliveSeconds === '') return undefined;
  const s = Number(def.aliveSeconds);
  if (!Number.isFinite(s) || s <= 0) throw new Error(`the keep-alive window must be a positive number of seconds, not '${def.aliveSeconds}'`);
  return { aliveMs: s * 1000 };
}

function brokerOf(def: GxConfigDef, creds: GxConfigCredentials, tls: TlsOptions | undefined): BrokerLinkOptions | undefined {
  const url = (def.broker ?? '').trim();
  if (!url) return undefined;
  if (hasUrlCredentials(url)) {
    // they would be stored in clear in flows.json; the credential fields are encrypted
    throw new Error(`the broker URL '${redactUrl(url)}' contains a user name or password: remove it from the URL and ` +
      'put it in the Username and Password fields of the MQTT broker tab');
  }
  if (!/^(mqtts?|wss?):\/\//.test(url)) throw new Error(`the broker must be an MQTT URL (mqtt://, mqtts://, ws://, wss://), not '${redactUrl(url)}'`);
  return {
    url,
    clientId: def.clientId?.trim() || undefined,
    username: creds.username || undefined,
    password: creds.password || undefined,
    tls,
    topicPrefix: normalizeTopicPrefix(def.topicPrefix),
  };
}
