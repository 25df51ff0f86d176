// One GX as a whole: a D-Bus connection with its service tracker, the engine over it and,
// when a broker is given, the broker link. gx-bridge and the gx-config node both build this.
import { EngineOptions, GxEngine, Logger } from './bridge/engine';
import { DbusServiceTracker, TrackerOptions } from './dbus/service-tracker';
import { BrokerLink, BrokerLinkOptions } from './mqtt/broker-link';

export interface GatewayOptions {
  dbus?: TrackerOptions;
  engine?: EngineOptions;
  /** no broker link when absent */
  broker?: BrokerLinkOptions;
  logger?: Logger;
}

export class GxGateway {
  readonly tracker: DbusServiceTracker;
  readonly engine: GxEngine;
  readonly link: BrokerLink | undefined;

  constructor(opts: GatewayOptions = {}) {
    this.tracker = new DbusServiceTracker(opts.dbus);
    this.engine = new GxEngine(this.tracker, { ...opts.engine, logger: opts.logger ?? opts.engine?.logger });
    this.link = opts.broker ? new BrokerLink(this.engine, { logger: opts.logger, ...opts.broker }) : undefined;
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
