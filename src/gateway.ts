// One GX as a whole: its item source (the GX's D-Bus, or the GX reached over MQTT), the engine
// over it and, when a broker is given, the broker link. gx-bridge and the gx-config node both
// build this.
import { EngineOptions, GxEngine, Logger } from './bridge/engine';
import type { ItemSource } from './bridge/item-source';
import { DbusServiceTracker, TrackerOptions } from './dbus/service-tracker';
import { BrokerLink, BrokerLinkOptions } from './mqtt/broker-link';
import type { RemoteGxSource, RemoteSourceOptions } from './remote';

export interface GatewayOptions {
  /** the GX's D-Bus (the default: the system bus) */
  dbus?: TrackerOptions;
  /** or the GX over MQTT: its broker on the LAN, or VRM (not both) */
  remote?: RemoteSourceOptions;
  engine?: EngineOptions;
  /** no broker link when absent */
  broker?: BrokerLinkOptions;
  logger?: Logger;
}

export class GxGateway {
  readonly source: ItemSource;
  /** the remote source, when the GX is reached over MQTT */
  readonly remote: RemoteGxSource | undefined;
  private readonly dbusTracker: DbusServiceTracker | undefined;
  readonly engine: GxEngine;
  readonly link: BrokerLink | undefined;

  constructor(opts: GatewayOptions = {}) {
    if (opts.dbus && opts.remote) throw new Error('a GX is reached either over D-Bus or over MQTT, not both');
    if (opts.remote) {
      // loaded only for a GX over MQTT: a D-Bus bridge has no use for it (memory on a GX)
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { RemoteGxSource: Remote } = require('./remote') as typeof import('./remote');
      this.remote = new Remote(opts.remote);
      this.source = this.remote;
    } else {
      this.dbusTracker = new DbusServiceTracker(opts.dbus);
      this.source = this.dbusTracker;
    }
    // over MQTT the portal ID is the GX's own: the topics it serves are that GX's
    const engine: EngineOptions = { ...opts.engine, logger: opts.logger ?? opts.engine?.logger };
    if (this.remote && !engine.portalId) engine.portalId = this.remote.portalId;
    if (this.remote && engine.uniqueIdFile === undefined) engine.uniqueIdFile = '';
    this.engine = new GxEngine(this.source, engine);
    this.link = opts.broker ? new BrokerLink(this.engine, { logger: opts.logger, ...opts.broker }) : undefined;
  }

  /** The D-Bus source. Only for a GX reached over D-Bus: with `remote` set it throws. */
  get tracker(): DbusServiceTracker {
    if (!this.dbusTracker) throw new Error('this GX is reached over MQTT, not over D-Bus');
    return this.dbusTracker;
  }

  /** where the GX is reached, for logs and status (no credentials) */
  get sourceLabel(): string {
    return this.dbusTracker ? `D-Bus ${this.dbusTracker.address.label}` : `GX ${this.source.label ?? '?'}`;
  }

  start(): void {
    this.engine.start();
    this.link?.start();
  }

  async close(): Promise<void> {
    await this.link?.close();
    await this.engine.close();
  }
}
