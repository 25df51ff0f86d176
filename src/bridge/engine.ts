// The notification / keep-alive engine: one item cache fed by an ItemSource, one stream of
// notifications out, and read / write / keep-alive requests in. It knows nothing of Node-RED,
// MQTT or D-Bus; the broker link and the nodes are thin adapters over it. Its parts:
// the keep-alive protocol (flashmq-protocol.ts, legacy-protocol.ts), reads.ts and writes.ts.
import { EventEmitter } from 'events';
import * as fs from 'fs';
import { deviceInstance } from './device-instance';
import { EngineHost, Logger, OutMessage, RequestError, silentLogger, UpdateCause, ItemUpdate } from './engine-api';
import { FlashmqProtocol } from './flashmq-protocol';
import { Item, ItemCache, Service } from './item-cache';
import { ItemSource, ServiceInfo, SourceItem, SourceState } from './item-source';
import { JsonLiteral } from './json-literal';
import { FLASHMQ_TIMING, KeepaliveOutcome, KeepaliveTiming } from './keepalive';
import { LegacyProtocol } from './legacy-protocol';
import { logText } from './log-text';
import { NotificationProtocol, ProtocolMode } from './protocol';
import { ReadItem, readItemOf, ReadOptions, Reads } from './reads';
import { MAX_REQUEST_PAYLOAD } from './request-limits';
import { ItemAddress, parseRequestTopic, shortServiceType } from './topics';
import { topicLevelProblem, utf8Bytes } from './topic-names';
import { WritePolicy } from './write-policy';
import { WriteOptions, WriteOrigin, WriteResult, Writes } from './writes';

export type { Logger, OutMessage, UpdateCause, ItemUpdate } from './engine-api';
export { RequestError } from './engine-api';
export type { FullPublishCompleted } from './flashmq-protocol';
export type { ProtocolMode } from './protocol';
export type { ReadItem } from './reads';
export type { QueuedWrite, WriteOptions, WriteOrigin, WriteResult } from './writes';

export interface EngineOptions {
  /** Portal ID to use; else /data/venus/unique-id, else com.victronenergy.system /Serial (N9). */
  portalId?: string;
  /** where the device's unique id lives; '' disables the file look-up */
  uniqueIdFile?: string;
  mode?: ProtocolMode;
  timing?: Partial<KeepaliveTiming>;
  writePolicy?: WritePolicy;
  /** D-Bus GetValue calls for R requests in flight at once (flood bound) */
  maxReadsInFlight?: number;
  /** R requests waiting beyond those; more are refused */
  maxQueuedReads?: number;
  /** D-Bus SetValue calls in flight at once (writes.ts: per item one, newer ones coalesce) */
  maxWritesInFlight?: number;
  /** items with a write waiting beyond those; more are refused */
  maxQueuedWrites?: number;
  /**
   * Whether an R/W payload is one the engine's own source published (a GX over MQTT marks its
   * requests): one coming back as a request means the broker loops to the GX. Such requests are
   * dropped, and 'loop' (topic) is emitted once.
   */
  isOwnRequest?: (payload: Buffer | string) => boolean;
  logger?: Logger;
}

/** A portal ID learnt from /Serial longer than this is refused (Victron's are 12 characters). */
const MAX_PORTAL_BYTES = 256;

export class GxEngine extends EventEmitter implements EngineHost {
  readonly cache = new ItemCache();
  readonly mode: ProtocolMode;
  readonly timing: KeepaliveTiming;
  private portal: string | undefined;
  private readonly portalFixed: boolean;
  private readonly protocol: NotificationProtocol;
  private readonly reads: Reads;
  private readonly writes: Writes;
  private readonly log: Logger;
  private started = false;
  /** every service found on connecting has been scanned: the cache is complete */
  initialScanDone = false;
  private readonly sourceListeners: Array<[string, (...a: never[]) => void]> = [];
  private wasLive = false;
  private readonly isOwnRequest: ((payload: Buffer | string) => boolean) | undefined;
  private loopSeen = false;

  constructor(readonly source: ItemSource, opts: EngineOptions = {}) {
    super();
    // one engine fans out to every palette node of its GX (each adds a few listeners): dozens are
    // normal, so Node's "possible EventEmitter memory leak" warning would only mislead users
    this.setMaxListeners(0);
    this.mode = opts.mode ?? 'flashmq';
    this.timing = { ...FLASHMQ_TIMING, ...opts.timing };
    this.log = opts.logger ?? silentLogger;
    this.isOwnRequest = opts.isOwnRequest;
    this.cache.onRefused = (service, what, reason) => this.log.warn(`${service.name}: ${what} is not published and R/W cannot ` +
      `reach it: ${reason} (told once for this service; any other such items of it are left out silently)`);
    this.portal = opts.portalId?.trim() || readUniqueId(opts.uniqueIdFile ?? '/data/venus/unique-id');
    this.portalFixed = !!this.portal;
    this.protocol = this.mode === 'legacy' ? new LegacyProtocol(this, this.timing) : new FlashmqProtocol(this, this.timing);
    this.reads = new Reads(this, source, opts.maxReadsInFlight ?? 8, opts.maxQueuedReads ?? 1000, this.protocol);
    this.writes = new Writes(this, source, opts.writePolicy ?? { mode: 'all' }, opts.maxWritesInFlight ?? 4, opts.maxQueuedWrites ?? 200);
  }

  get logger(): Logger {
    return this.log;
  }

  get portalId(): string | undefined {
    return this.portal;
  }

  get alive(): boolean {
    return this.protocol.alive;
  }

  get sourceState(): SourceState {
    return this.source.state;
  }

  /** the source is connected but hears nothing from the GX (a remote GX gone quiet) */
  get stale(): boolean {
    return this.source.stale === true;
  }

  /**
   * The GX is there: its source is connected, not stale, and its first scan is done. Only then
   * does the heartbeat run (K7), which clients take for the sign that the GX lives.
   */
  get sourceLive(): boolean {
    return this.source.state === 'connected' && this.source.stale !== true && this.initialScanDone;
  }

  private liveChanged(): void {
    const live = this.sourceLive;
    if (live === this.wasLive) return;
    this.wasLive = live;
    this.protocol.sourceLive(live);
  }

  get writePolicy(): WritePolicy {
    return this.writes.policy;
  }

  set writePolicy(p: WritePolicy) {
    this.writes.policy = p;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.onSource('service', (name: string, items: SourceItem[], info?: ServiceInfo) => this.onService(name, items, info));
    this.onSource('changes', (name: string, items: SourceItem[]) => this.onChanges(name, items));
    this.onSource('service-gone', (name: string) => this.onServiceGone(name));
    this.onSource('bus-name', (name: string, busName?: string) => {
      const service = this.cache.services.get(name);
      if (service) service.busName = busName; // only sources that make names up send it
    });
    this.onSource('state', (state: SourceState, detail?: string) => {
      if (state === 'disconnected') {
        this.initialScanDone = false;
        for (const name of [...this.cache.services.keys()]) this.onServiceGone(name);
      }
      this.liveChanged();
      this.emit('state', state, detail);
    });
    this.onSource('scanned', (n: number) => {
      this.initialScanDone = true;
      this.liveChanged();
      this.emit('scanned', n);
    });
    this.onSource('stale', (stale: boolean, detail?: string) => {
      this.liveChanged();
      this.emit('stale', stale, detail);
    });
    this.onSource('log', (level: keyof Logger, text: string) => this.log[level](text));
    this.source.start();
  }

  private onSource(event: string, fn: (...a: never[]) => void): void {
    this.source.on(event, fn as (...a: unknown[]) => void);
    this.sourceListeners.push([event, fn]);
  }

  async close(): Promise<void> {
    this.protocol.close();
    this.reads.close(new RequestError('the engine was closed'));
    this.writes.close(new RequestError('the engine was closed'));
    for (const [ev, fn] of this.sourceListeners) this.source.removeListener(ev, fn as (...a: unknown[]) => void);
    this.sourceListeners.length = 0;
    await this.source.stop();
  }

  // ---------------------------------------------------------------------------------------
  // Publishing (EngineHost)

  out(topic: string, payload: string, retain: boolean): void {
    this.emit('publish', { topic, payload, retain } as OutMessage);
  }

  publishItem(service: Service, item: Item, readReply = false): void {
    if (!this.portal || service.isBlocked(item)) return; // N6
    this.protocol.publishItem(service, item, readReply);
  }

  update(cause: UpdateCause, service: Service, item: Item): void {
    if (this.listenerCount('update') === 0 || service.isBlocked(item)) return;
    this.emit('update', {
      cause,
      service,
      item,
      topic: service.topicOf(item),
      payload: cause === 'vanish' ? '' : service.payloadOf(item),
    } as ItemUpdate);
  }

  // ---------------------------------------------------------------------------------------
  // Source events

  private onService(name: string, items: SourceItem[], info?: ServiceInfo): void {
    const byPath = new Map(items.map((i) => [i.path, i.value]));
    const instance = info?.instance ?? deviceInstance((p) => byPath.get(p));
    let service = this.cache.services.get(name);
    if (service && service.instance !== instance) {
      this.onServiceGone(name); // a new owner on another instance: other topics altogether
      service = undefined;
    }
    if (service) {
      // The name has a new owner (D4). dbus-flashmq merges its items into the old ones; we
      // deliberately do better: the service now holds exactly the new owner's items, and the
      // topics only the old owner had are emptied once, as when a service goes (S1).
      this.vanish(service.detached(service.replaceItems(items)));
      if (info?.synthetic) service.busName = info.busName;
    } else {
      service = new Service(name, shortServiceType(name), instance, this.portal ?? '');
      if (info?.synthetic) {
        service.label = service.routingKey;
        service.busName = info.busName;
      }
      if (!this.cache.add(service)) return; // its topics cannot exist (reported by the cache)
      const routed = this.cache.route(service.type, service.instance)!;
      if (routed !== service) {
        this.log.warn(`${name} and ${routed.name} both claim ${service.routingKey}: their items share topics; ` +
          `R/W keep going to ${routed.name}, which came first, until it leaves`);
      }
      for (const si of items) service.apply(si);
    }
    this.maybeLearnPortal(service);
    this.protocol.serviceScanned(service);
    for (const item of service.items.values()) this.update('scan', service, item);
    this.emit('service', service);
  }

  private onChanges(name: string, items: SourceItem[]): void {
    const service = this.cache.services.get(name);
    if (!service) return;
    for (const si of items) {
      const item = service.apply(si);
      if (!item) continue;
      if (si.path === '/Serial') this.maybeLearnPortal(service); // systemcalc may set it after registering (N9)
      if (this.protocol.publishesChange(service, item)) this.publishItem(service, item);
      this.update('change', service, item);
    }
  }

  private onServiceGone(name: string): void {
    const service = this.cache.remove(name);
    if (!service) return;
    this.vanish(service);
    this.emit('service-gone', service);
  }

  /**
   * The items of `gone` (a service that left, or the old owner's leftovers) leave their topics:
   * emptied (S1), except where another service on the same type/instance has the same path —
   * there that service's value is shown again (published now if it would be published on a
   * change; a full publish has it anyway) rather than leaving the topic empty (issue 14 #8).
   */
  private vanish(gone: Service): void {
    if (gone.items.size === 0) return;
    const others = this.cache.sharing(gone);
    const emptied: Item[] = [];
    for (const item of gone.items.values()) {
      const other = others.find((s) => s.items.has(item.path));
      if (!other) {
        emptied.push(item);
        continue;
      }
      const shown = other.items.get(item.path)!;
      if (this.protocol.publishesChange(other, shown)) this.publishItem(other, shown);
      this.update('scan', other, shown);
    }
    const leaving = others.length ? gone.detached(emptied) : gone;
    for (const item of leaving.items.values()) this.update('vanish', leaving, item);
    this.protocol.serviceGone(leaving);
  }

  private maybeLearnPortal(service: Service): void {
    if (this.portalFixed || service !== this.cache.route('system', '0')) return; // only the routed system/0 (I6)
    const serial = service.items.get('/Serial');
    if (!serial || serial.sig !== 's' || !serial.value) return;
    const id = String(serial.value).trim();
    if (id === this.portal) return;
    const bad = topicLevelProblem(id);
    if (bad || utf8Bytes(id) > MAX_PORTAL_BYTES) {
      this.log.warn(`${service.name} /Serial ${JSON.stringify(id.slice(0, 80))} is not usable as the portal ID: ${bad ?? 'it is too long'}`);
      return;
    }
    this.portal = id;
    this.cache.setPortal(id);
    this.log.info(`portal ID ${id} (from com.victronenergy.system /Serial)`);
    this.emit('portal', id);
  }

  // ---------------------------------------------------------------------------------------
  // Requests

  /** The broker link (re)connected: the start-up marker and the retained serial (K10, N7, K-P7). */
  brokerConnected(): void {
    if (this.portal) this.protocol.brokerConnected();
  }

  /**
   * An MQTT request (R/W). Never throws: problems are logged with the topic and the reason.
   * Retained requests are ignored so that a retained W is never performed again (W8). A
   * payload over MAX_REQUEST_PAYLOAD is never decoded.
   */
  handleMqttRequest(topic: string, payload: Buffer | string, retain: boolean): void {
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    // An oversized W goes on to the write path, which refuses it on its byte length with a
    // result (writes.ts); anything else oversized is dropped here, unread.
    if (size > MAX_REQUEST_PAYLOAD && !(topic.startsWith('W/') && !retain)) {
      this.log.warn(`ignored ${logText(topic)}: a payload of ${size} bytes is over the ${MAX_REQUEST_PAYLOAD}-byte limit (dropped unread)`);
      return;
    }
    if (this.isOwnRequest?.(payload)) {
      this.log.debug(`ignored ${logText(topic)}: a request of our own source, come back`);
      if (!this.loopSeen) {
        this.loopSeen = true;
        this.emit('loop', topic);
      }
      return;
    }
    if (retain) {
      // an empty one is a retained request being cleared, which is what the README advises
      if (size === 0) this.log.debug(`ignored ${logText(topic)}: empty retained payload`);
      else this.log.warn(`ignored retained request on ${logText(topic)}: R/W requests must not be retained`);
      return;
    }
    // decoded only where needed: a W payload's size and UTF-8 are checked on its bytes (writes.ts)
    const text = (): string => (typeof payload === 'string' ? payload : payload.toString('utf8'));
    let req;
    try {
      req = parseRequestTopic(topic);
    } catch (e) {
      // a W of ours to a target that cannot be: refused like any other write (an S/ reply too)
      if (this.portal && topic.startsWith(`W/${this.portal}/`)) this.writes.mqttUnroutable(topic, payload, (e as Error).message);
      else this.log.warn(`ignored ${logText(topic)}: ${logText((e as Error).message)}`);
      return;
    }
    if (!this.portal || req.portal !== this.portal) {
      this.log.warn(`ignored ${logText(topic)}: portal ID '${logText(req.portal, 40)}' is not ours (${this.portal ?? 'not known yet'})`);
      return;
    }
    if (req.special === 'keepalive') {
      if (req.kind === 'W') return this.log.warn(`ignored ${logText(topic)}: keepalive is an R topic`);
      this.keepaliveRequest(text());
      return;
    }
    if (req.kind === 'R') {
      if (req.serialKeepalive) {
        this.keepaliveRequest(text(), true);
        if (!this.protocol.readsSerialKeepalive) return; // legacy: the keep-alive is the whole answer (K-P4)
      }
      this.read(req.target, { publish: true }).catch((e: Error) => this.log.warn(`read ${logText(topic)} failed: ${logText(e.message)}`));
    } else {
      this.writes.mqttRequest(req.target, topic, payload).catch((e: Error) => this.log.error(`write ${logText(topic)} failed: ${e.message}`));
    }
  }

  /**
   * A keep-alive with the raw payload of the request. Returns what happened; in flashmq mode
   * a full publish ends with `full_publish_completed` (also emitted as an event).
   */
  keepaliveRequest(payload: string, viaSerial = false): KeepaliveOutcome | 'legacy' | 'invalid' {
    return this.protocol.keepalive(payload, viaSerial);
  }

  /** Re-reads a path from the source (R2–R5); see reads.ts. */
  read(addr: ItemAddress, opts: ReadOptions = {}): Promise<ReadItem[]> {
    return this.reads.read(addr, opts);
  }

  readItem(service: Service, item: Item): ReadItem {
    return readItemOf(service, item);
  }

  /** A W request payload (`{"value":…}`); see writes.ts. */
  writeJson(addr: ItemAddress, payload: Buffer | string, source: WriteOrigin): Promise<WriteResult> {
    return this.writes.writeJson(addr, payload, source);
  }

  /** Writes a parsed JSON value to an item, typed per W4; see writes.ts. */
  writeLiteral(addr: ItemAddress, lit: JsonLiteral, source: WriteOrigin, opts?: WriteOptions): Promise<WriteResult> {
    return this.writes.writeLiteral(addr, lit, source, opts);
  }

  // ---------------------------------------------------------------------------------------
  // Views for the nodes and the editor

  /** Every cached item that may be shown (blocked paths are not, N6). */
  *items(): Generator<[Service, Item]> {
    for (const service of this.cache.services.values()) {
      for (const item of service.items.values()) if (!service.isBlocked(item)) yield [service, item];
    }
  }
}

function readUniqueId(file: string): string | undefined {
  if (!file) return undefined;
  try {
    const first = fs.readFileSync(file, 'utf8').split('\n')[0].trim();
    return first || undefined;
  } catch {
    return undefined;
  }
}
