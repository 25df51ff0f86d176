// dbus-flashmq's protocol (spec §7.1, N5, N7, S1): changes go out only while alive, nothing
// is retained but system/0/Serial, every unsuppressed keep-alive republishes everything and ends
// with full_publish_completed, and a heartbeat runs every 3 s while alive — and while the GX is
// there: clients take the heartbeat for the sign that the GX lives, so it pauses while the
// source is disconnected or stale (a GX over MQTT gone quiet, a D-Bus gone) and comes back
// with the GX (K7).
import { EngineHost, isSerialItem, unixNow } from './engine-api';
import type { Item, Service } from './item-cache';
import { KeepaliveOptions, KeepaliveOutcome, KeepaliveState, KeepaliveTiming, parseKeepaliveOptions } from './keepalive';
import { NotificationProtocol } from './protocol';

export interface FullPublishCompleted {
  value: number;
  echo?: string;
  payload: string;
}

export class FlashmqProtocol implements NotificationProtocol {
  readonly mode = 'flashmq' as const;
  readonly readsSerialKeepalive = true;
  private readonly state: KeepaliveState;

  constructor(private readonly host: EngineHost, timing: KeepaliveTiming) {
    this.state = new KeepaliveState(timing, {
      heartbeat: () => this.special('heartbeat', `{"value":${unixNow()}}`),
      expired: () => host.emit('alive', false),
    });
  }

  get alive(): boolean {
    return this.state.alive;
  }

  private special(name: string, payload: string, retain = false): void {
    const portal = this.host.portalId;
    if (portal) this.host.out(`N/${portal}/${name}`, payload, retain);
  }

  publishItem(service: Service, item: Item): void {
    this.host.out(service.topicOf(item), service.payloadOf(item), isSerialItem(service, item));
  }

  publishesChange(): boolean {
    return this.state.alive;
  }

  serviceScanned(service: Service): void {
    const alive = this.state.alive;
    for (const item of service.items.values()) {
      if (alive || isSerialItem(service, item)) this.host.publishItem(service, item); // N7: the serial always
    }
  }

  serviceGone(service: Service): void {
    // S1: an empty, non-retained payload for every item, alive or not; never for the serial.
    if (!this.host.portalId) return;
    for (const item of service.items.values()) {
      if (service.isBlocked(item) || isSerialItem(service, item)) continue;
      this.host.out(service.topicOf(item), '', false);
    }
  }

  brokerConnected(): void {
    this.special('keepalive', '1'); // K10: plain text, not retained
    const sys = this.host.cache.route('system', '0');
    const serial = sys?.items.get('/Serial');
    if (sys && serial) this.host.publishItem(sys, serial);
  }

  keepalive(payload: string): KeepaliveOutcome {
    const opts = parseKeepaliveOptions(payload);
    const wasAlive = this.state.alive;
    const outcome = this.state.refresh(opts);
    if (!wasAlive) this.host.emit('alive', true);
    if (outcome === 'republish') this.fullPublish(opts);
    else if (outcome === 'rate-limited') this.host.logger.debug('keep-alive: full republish skipped, more than 3 per second (K6)');
    if (this.host.sourceLive) this.state.startHeartbeat(); // after the republish: full_publish_completed comes first
    return outcome;
  }

  sourceLive(live: boolean): void {
    if (live) this.state.startHeartbeat(); // only while alive
    else this.state.stopHeartbeat();
  }

  /** K3: every cached item, then full_publish_completed (with the echo of K5) last. */
  private fullPublish(opts: KeepaliveOptions): void {
    for (const service of this.host.cache.services.values()) {
      for (const item of service.items.values()) this.host.publishItem(service, item);
    }
    const value = unixNow();
    const payload = opts.echo !== undefined
      ? `{"full-publish-completed-echo":${JSON.stringify(opts.echo)},"value":${value}}`
      : `{"value":${value}}`;
    this.special('full_publish_completed', payload);
    this.host.emit('full-publish-completed', { value, echo: opts.echo, payload } as FullPublishCompleted);
  }

  close(): void {
    this.state.close();
  }
}
