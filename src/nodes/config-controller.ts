// The gx-config node's behaviour: it owns one GxGateway (D-Bus connection, engine and, when a
// broker is set, the broker link), lets the palette nodes register with it, fans its
// connection status out to them, and releases everything on close (model: core 10-mqtt).
import { Logger } from '../bridge/engine';
import { limitLogger } from '../bridge/log-limiter';
import { parseWritePatterns, WritePolicy } from '../bridge/write-policy';
import { GxGateway } from '../gateway';
import { BrokerLinkOptions, redactUrl, TlsOptions } from '../mqtt/broker-link';
import { NodeStatus, Status } from './status';

export interface GxConfigDef {
  name?: string;
  dbusAddress?: string;
  portalId?: string;
  mode?: string;
  broker?: string;
  clientId?: string;
  writePolicy?: string;
  writePatterns?: string;
  aliveSeconds?: number | string;
}

export interface GxConfigCredentials {
  username?: string;
  password?: string;
}

/** What a palette node hands to its config node when it registers. */
export interface GxUser {
  id: string;
  status(s: NodeStatus): void;
}

/** The D-Bus address to use: the node's, else NODE_RED_DBUS_ADDRESS (node-red-contrib-victron's variable), else the system bus. */
export function effectiveDbusAddress(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const c = (configured ?? '').trim();
  if (c) return c;
  return (env.NODE_RED_DBUS_ADDRESS ?? '').trim() || 'system';
}

export class GxConfigController {
  readonly gateway: GxGateway | undefined;
  /** why the gateway could not be built (bad address, bad pattern…) */
  readonly configError: string | undefined;
  private readonly users = new Map<string, GxUser>();
  private current: NodeStatus = Status.connecting();
  private closed = false;
  private readonly onChange = () => this.setStatus(this.computeStatus());

  constructor(def: GxConfigDef, creds: GxConfigCredentials, tls: TlsOptions | undefined, log: Logger) {
    let gateway: GxGateway | undefined;
    let error: string | undefined;
    try {
      gateway = new GxGateway({
        logger: limitLogger(log),
        dbus: { address: effectiveDbusAddress(def.dbusAddress) },
        engine: {
          portalId: def.portalId?.trim() || undefined,
          mode: def.mode === 'legacy' ? 'legacy' : 'flashmq',
          writePolicy: writePolicyOf(def),
          timing: aliveMsOf(def),
        },
        broker: brokerOf(def, creds, tls),
      });
    } catch (e) {
      error = (e as Error).message;
      log.error(`GX config: ${error}`);
    }
    this.gateway = gateway;
    this.configError = error;
    if (!gateway) {
      this.current = Status.failed('config error');
      return;
    }
    gateway.engine.on('state', this.onChange);
    gateway.engine.on('portal', this.onChange);
    gateway.engine.on('scanned', this.onChange);
    gateway.link?.on('state', this.onChange);
    gateway.start();
    this.onChange();
  }

  get engine() {
    return this.gateway?.engine;
  }

  private computeStatus(): NodeStatus {
    const gw = this.gateway!;
    switch (gw.tracker.state) {
      case 'connecting':
        return Status.connecting();
      case 'disconnected':
        return Status.disconnected();
      case 'closed':
        return Status.disconnected('closed');
    }
    if (!gw.engine.initialScanDone) return Status.connecting('scanning');
    if (!gw.engine.portalId) return Status.busy('waiting for portal');
    if (gw.link && gw.link.state !== 'connected') return Status.busy('broker offline');
    return Status.connected();
  }

  private setStatus(s: NodeStatus): void {
    this.current = s;
    for (const u of this.users.values()) u.status(s);
  }

  get status(): NodeStatus {
    return this.current;
  }

  register(user: GxUser): void {
    this.users.set(user.id, user);
    user.status(this.current);
  }

  deregister(user: GxUser): void {
    this.users.delete(user.id);
  }

  get userCount(): number {
    return this.users.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.users.clear();
    if (this.gateway) {
      for (const ev of ['state', 'portal', 'scanned']) this.gateway.engine.removeListener(ev, this.onChange);
      this.gateway.link?.removeListener('state', this.onChange);
      await this.gateway.close();
    }
  }

  /** Live services and paths for the editors' path picker. */
  listItems(filter = '', limit = 20000): Array<{ path: string; value: unknown; service: string }> {
    const engine = this.engine;
    if (!engine) return [];
    const out: Array<{ path: string; value: unknown; service: string }> = [];
    const f = filter.toLowerCase();
    for (const [service, item] of engine.items()) {
      const path = `${service.type}/${service.instance}${item.path}`;
      if (f && !path.toLowerCase().includes(f)) continue;
      const value = engine.readItem(service, item).value;
      out.push({ path, value: typeof value === 'bigint' ? value.toString() : value, service: service.name });
      if (out.length >= limit) break;
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
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
  if (!/^(mqtts?|wss?):\/\//.test(url)) throw new Error(`the broker must be an MQTT URL (mqtt://, mqtts://, ws://, wss://), not '${redactUrl(url)}'`);
  return {
    url,
    clientId: def.clientId?.trim() || undefined,
    username: creds.username || undefined,
    password: creds.password || undefined,
    tls,
  };
}
