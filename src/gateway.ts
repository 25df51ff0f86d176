// One GX as a whole: its item source (the GX's D-Bus, or the GX reached over MQTT), the engine
// over it and, when a broker is given, the broker link. gx-bridge and the gx-config node both
// build this. A GX over MQTT bridged to a broker must not be bridged onto its own broker: what
// the bridge publishes would come back as the GX's (a loop). Refused when the URLs show it;
// found and stopped at once when they do not (another name for it, or brokers bridged).
import { EngineOptions, GxEngine, Logger } from './bridge/engine';
import type { ItemSource } from './bridge/item-source';
import { DbusServiceTracker, TrackerOptions } from './dbus/service-tracker';
import { sameBroker } from './mqtt/broker-endpoint';
import { BrokerLink, BrokerLinkOptions, normalizeTopicPrefix, redactUrl } from './mqtt/broker-link';
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
    const remote = this.remote;
    if (remote && opts.broker) {
      refuseOwnBroker(remote.url, opts.broker);
      engine.isOwnRequest = (payload) => remote.isOwnRequest(payload);
    }
    this.engine = new GxEngine(this.source, engine);
    this.link = opts.broker ? new BrokerLink(this.engine, { logger: opts.logger, ...opts.broker }) : undefined;
    if (remote && this.link) this.stopLoops(remote, this.link, engine.logger);
  }

  /**
   * The link's broker hands our own requests back (engine 'loop'): it is the GX's broker after
   * all. Stop bridging there at once; flows over the GX go on. An `N/<portal>/keepalive` right
   * after the link's own is not taken for a GX restart (remote-source.ts).
   */
  private stopLoops(remote: RemoteGxSource, link: BrokerLink, log: Logger | undefined): void {
    link.on('ready', () => remote.ownMarkerSent());
    this.engine.once('loop', (topic: string) => {
      const detail = `the broker ${link.label} handed this bridge's own request ${topic.slice(0, 120)} back: it is the GX's ` +
        'own broker, or bridged to it, and what the bridge publishes there comes back as the GX\'s (a loop)';
      log?.error(`${detail}. Stopped bridging to it; bridge to another broker, or give a topic prefix`);
      link.abandon({ reason: 'broker loops to GX', permanent: true, detail }).catch(() => undefined);
    });
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

/** The GX's own broker as the broker, without a topic prefix: a loop from the first message. */
function refuseOwnBroker(gxUrl: string, broker: BrokerLinkOptions): void {
  if (normalizeTopicPrefix(broker.topicPrefix) !== '' || !sameBroker(gxUrl, broker.url)) return;
  throw new Error(`the broker ${redactUrl(broker.url)} is the GX's own broker (${redactUrl(gxUrl)}): what the bridge publishes ` +
    'there would come back to it as the GX\'s notifications and requests, a loop. Bridge to another broker, or give a topic prefix');
}
