// The notification / keep-alive engine: one item cache fed by an ItemSource (D-Bus), one
// stream of notifications out, and read / write / keep-alive requests in. It knows nothing
// of Node-RED or MQTT; the broker link and the nodes are thin adapters over it.
import { EventEmitter } from 'events';
import * as fs from 'fs';
import { deviceInstance } from './device-instance';
import { Item, ItemCache, Service } from './item-cache';
import { ItemSource, SourceItem, SourceState } from './item-source';
import { JsonLiteral, JsonSyntaxError, parseJsonLiteral } from './json-literal';
import { FLASHMQ_TIMING, KeepaliveOptions, KeepaliveOutcome, KeepaliveState, KeepaliveTiming, parseKeepaliveOptions } from './keepalive';
import { ALL, LegacySubscriptions } from './legacy-subscriptions';
import { isMaskedSetting, toPlain } from './payload';
import { RequestLimiter } from './request-limiter';
import { ItemAddress, parseRequestTopic, shortServiceType } from './topics';
import { joinPath, subTreeEntries, unwrapVariant } from './sub-tree';
import { isInvalid, TypedValue } from './typed-value';
import { checkWritePolicy, WritePolicy } from './write-policy';
import { toDbusValue, WriteTypeError } from './write-value';

export type ProtocolMode = 'flashmq' | 'legacy';

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

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
  logger?: Logger;
}

/** One MQTT message for the broker link. */
export interface OutMessage {
  topic: string;
  payload: string;
  retain: boolean;
}

export type UpdateCause = 'scan' | 'change' | 'read' | 'vanish';

/** A change of the cache, for flow nodes (emitted whether or not the system is alive). */
export interface ItemUpdate {
  cause: UpdateCause;
  service: Service;
  item: Item;
  topic: string;
  /** the notification payload; '' when the service vanished */
  payload: string;
}

export interface ReadItem {
  service: string;
  type: string;
  instance: string;
  path: string;
  topic: string;
  payload: string;
  value: unknown;
  min?: unknown;
  max?: unknown;
}

export interface WriteResult {
  ok: boolean;
  /** `W/<portal>/<type>/<instance><path>` */
  topic: string;
  service?: string;
  path: string;
  /** the value as written (plain JS), when it got that far */
  value?: unknown;
  /** D-Bus signature used */
  signature?: string;
  /** SetValue's return code (0 ok, 1 not writeable or refused, 2 rejected by the service) */
  code?: number;
  error?: string;
  source: 'mqtt' | 'flow';
}

export interface FullPublishCompleted {
  value: number;
  echo?: string;
  payload: string;
}

export class RequestError extends Error {}

const SET_VALUE_CODES: Record<number, string> = {
  1: 'the service refused the value (not writeable, or it could not be converted)',
  2: 'the service rejected the value',
};

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export class GxEngine extends EventEmitter {
  readonly cache = new ItemCache();
  readonly mode: ProtocolMode;
  readonly timing: KeepaliveTiming;
  private portal: string | undefined;
  private readonly portalFixed: boolean;
  private readonly keepalive: KeepaliveState;
  private readonly legacy: LegacySubscriptions;
  /** legacy mode: topics published (retained) so far, to unpublish on expiry (K-P6) */
  private readonly legacyPublished = new Set<string>();
  private legacyTimer: NodeJS.Timeout | undefined;
  private readonly reads: RequestLimiter;
  private readonly log: Logger;
  writePolicy: WritePolicy;
  private started = false;
  /** every service found on connecting has been scanned: the cache is complete */
  initialScanDone = false;
  private readonly sourceListeners: Array<[string, (...a: never[]) => void]> = [];

  constructor(readonly source: ItemSource, opts: EngineOptions = {}) {
    super();
    this.mode = opts.mode ?? 'flashmq';
    this.timing = { ...FLASHMQ_TIMING, ...opts.timing };
    this.log = opts.logger ?? silentLogger;
    this.writePolicy = opts.writePolicy ?? { mode: 'all' };
    this.portal = opts.portalId?.trim() || readUniqueId(opts.uniqueIdFile ?? '/data/venus/unique-id');
    this.portalFixed = !!this.portal;
    this.keepalive = new KeepaliveState(this.timing, {
      heartbeat: () => this.publishSpecial('heartbeat', `{"value":${unixNow()}}`),
      expired: () => this.emit('alive', false),
    });
    this.legacy = new LegacySubscriptions(this.timing.aliveMs);
    this.reads = new RequestLimiter(opts.maxReadsInFlight ?? 8, opts.maxQueuedReads ?? 1000);
  }

  get logger(): Logger {
    return this.log;
  }

  get portalId(): string | undefined {
    return this.portal;
  }

  get alive(): boolean {
    return this.mode === 'flashmq' ? this.keepalive.alive : this.legacy.size > 0;
  }

  get sourceState(): SourceState {
    return this.source.state;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.onSource('service', (name: string, items: SourceItem[]) => this.onService(name, items));
    this.onSource('changes', (name: string, items: SourceItem[]) => this.onChanges(name, items));
    this.onSource('service-gone', (name: string) => this.onServiceGone(name));
    this.onSource('state', (state: SourceState, detail?: string) => {
      if (state === 'disconnected') {
        this.initialScanDone = false;
        for (const name of [...this.cache.services.keys()]) this.onServiceGone(name);
      }
      this.emit('state', state, detail);
    });
    this.onSource('scanned', (n: number) => {
      this.initialScanDone = true;
      this.emit('scanned', n);
    });
    this.onSource('log', (level: keyof Logger, text: string) => this.log[level](text));
    this.source.start();
  }

  private onSource(event: string, fn: (...a: never[]) => void): void {
    this.source.on(event, fn as (...a: unknown[]) => void);
    this.sourceListeners.push([event, fn]);
  }

  async close(): Promise<void> {
    this.keepalive.close();
    if (this.legacyTimer) clearInterval(this.legacyTimer);
    this.legacyTimer = undefined;
    this.reads.close(new RequestError('the engine was closed'));
    for (const [ev, fn] of this.sourceListeners) this.source.removeListener(ev, fn as (...a: unknown[]) => void);
    this.sourceListeners.length = 0;
    await this.source.stop();
  }

  // ---------------------------------------------------------------------------------------
  // Publishing

  private out(topic: string, payload: string, retain: boolean): void {
    this.emit('publish', { topic, payload, retain } as OutMessage);
  }

  private publishSpecial(name: string, payload: string, retain = false): void {
    if (!this.portal) return;
    this.out(`N/${this.portal}/${name}`, payload, retain);
  }

  private isSerial(service: Service, item: Item): boolean {
    return service.type === 'system' && service.instance === '0' && item.path === '/Serial';
  }

  /**
   * Publishes one item as a notification: retain only for system/0/Serial in F (N5, N7);
   * in legacy mode everything but read replies is retained (N5, R8).
   */
  private publishItem(service: Service, item: Item, readReply = false): void {
    if (!this.portal || service.isBlocked(item)) return;
    const topic = service.topicOf(item);
    if (this.mode === 'legacy' && readReply) {
      this.out(topic, service.payloadOf(item), false);
    } else if (this.mode === 'legacy') {
      if (this.isSerial(service, item)) return this.publishLegacySerial();
      this.legacyPublished.add(topic);
      this.out(topic, service.payloadOf(item), true);
    } else {
      this.out(topic, service.payloadOf(item), this.isSerial(service, item));
    }
  }

  /** Whether a change of this item goes out now (K8; legacy: K-P5). */
  private shouldPublishChange(service: Service, item: Item): boolean {
    if (this.mode === 'flashmq') return this.keepalive.alive;
    const topic = service.topicOf(item);
    return this.legacyPublished.has(topic) || this.legacy.matches(topic.slice(this.portal!.length + 3));
  }

  private update(cause: UpdateCause, service: Service, item: Item): void {
    if (this.listenerCount('update') === 0 || service.isBlocked(item)) return;
    const vanished = cause === 'vanish';
    this.emit('update', {
      cause,
      service,
      item,
      topic: service.topicOf(item),
      payload: vanished ? '' : service.payloadOf(item),
    } as ItemUpdate);
  }

  // ---------------------------------------------------------------------------------------
  // Source events

  private onService(name: string, items: SourceItem[]): void {
    const existing = this.cache.services.get(name);
    let service: Service;
    if (existing) {
      // Owner changed without the service going away: merge, keep topics (D4, I5).
      service = existing;
    } else {
      const byPath = new Map(items.map((i) => [i.path, i.value]));
      service = new Service(name, shortServiceType(name), deviceInstance((p) => byPath.get(p)), this.portal ?? '');
      this.cache.add(service);
    }
    for (const si of items) this.applyItem(service, si);
    this.maybeLearnPortal(service);
    const publishAll = this.mode === 'flashmq' ? this.keepalive.alive : false;
    for (const item of service.items.values()) {
      if (publishAll || (this.mode === 'legacy' && this.shouldPublishChange(service, item))) this.publishItem(service, item);
      else if (this.isSerial(service, item)) this.publishItem(service, item); // N7: always
      this.update('scan', service, item);
    }
    this.emit('service', service);
  }

  private applyItem(service: Service, si: SourceItem): Item | undefined {
    let item = service.items.get(si.path);
    if (!item) {
      if (!si.value) return undefined; // a min/max-only change for an unknown path carries no value
      item = new Item(si.path, si.value.signature, si.value.value);
      item.update(undefined, si.min, si.max);
      service.items.set(si.path, item);
    } else {
      item.update(si.value, si.min, si.max);
    }
    return item;
  }

  private onChanges(name: string, items: SourceItem[]): void {
    const service = this.cache.services.get(name);
    if (!service) return;
    for (const si of items) {
      const item = this.applyItem(service, si);
      if (!item) continue;
      if (this.shouldPublishChange(service, item)) this.publishItem(service, item);
      this.update('change', service, item);
    }
  }

  private onServiceGone(name: string): void {
    const service = this.cache.remove(name);
    if (!service) return;
    // S1: an empty payload for every item, alive or not (legacy S2: retained).
    for (const item of service.items.values()) {
      this.update('vanish', service, item);
      if (!this.portal || service.isBlocked(item) || this.isSerial(service, item)) continue;
      const topic = service.topicOf(item);
      if (this.mode === 'legacy') {
        if (!this.legacyPublished.delete(topic)) continue;
        this.out(topic, '', true);
      } else {
        this.out(topic, '', false);
      }
    }
    this.emit('service-gone', service);
  }

  private maybeLearnPortal(service: Service): void {
    if (this.portalFixed || service.type !== 'system') return;
    const serial = service.items.get('/Serial');
    if (!serial || serial.sig !== 's' || !serial.value) return;
    const id = String(serial.value).trim();
    if (id === this.portal) return;
    this.portal = id;
    this.cache.setPortal(id);
    this.log.info(`portal ID ${id} (from com.victronenergy.system /Serial)`);
    this.emit('portal', id);
  }

  // ---------------------------------------------------------------------------------------
  // Broker link hooks

  /** The broker link (re)connected: the start-up marker and the retained serial (K10, N7, K-P7). */
  brokerConnected(): void {
    if (!this.portal) return;
    if (this.mode === 'legacy') {
      this.publishSpecial('keepalive', '{"value":1}', true);
      this.publishLegacySerial();
    } else {
      this.publishSpecial('keepalive', '1', false);
      const sys = this.cache.route('system', '0');
      const serial = sys?.items.get('/Serial');
      if (sys && serial) this.publishItem(sys, serial);
    }
  }

  private publishLegacySerial(): void {
    this.publishSpecial('system/0/Serial', `{"value":${JSON.stringify(this.portal)}}`, true);
  }

  /**
   * An MQTT request (R/W). Never throws: problems are logged with the topic and the reason.
   * Retained requests are ignored so that a retained W is never performed again (W8).
   */
  handleMqttRequest(topic: string, payload: Buffer | string, retain: boolean): void {
    const text = typeof payload === 'string' ? payload : payload.toString('utf8');
    if (retain) {
      this.log.warn(`ignored retained request on ${topic}: R/W requests must not be retained`);
      return;
    }
    let req;
    try {
      req = parseRequestTopic(topic);
    } catch (e) {
      this.log.warn(`ignored ${topic}: ${(e as Error).message}`);
      return;
    }
    if (!this.portal || req.portal !== this.portal) {
      this.log.warn(`ignored ${topic}: portal ID '${req.portal}' is not ours (${this.portal ?? 'not known yet'})`);
      return;
    }
    if (req.special === 'keepalive') {
      if (req.kind === 'W') return this.log.warn(`ignored ${topic}: keepalive is an R topic`);
      this.keepaliveRequest(text);
      return;
    }
    if (req.kind === 'R') {
      if (req.serialKeepalive) this.keepaliveRequest(text, true);
      this.read(req.target, { publish: true }).catch((e: Error) => this.log.warn(`read ${topic} failed: ${e.message}`));
    } else {
      this.writeJson(req.target, text, 'mqtt').catch((e: Error) => this.log.error(`write ${topic} failed: ${e.message}`));
    }
  }

  // ---------------------------------------------------------------------------------------
  // Keep-alive

  /**
   * A keep-alive with the raw payload of the request. Returns what happened; in flashmq mode
   * a full publish ends with `full_publish_completed` (also emitted as an event).
   */
  keepaliveRequest(payload: string, viaSerial = false): KeepaliveOutcome | 'legacy' | 'invalid' {
    if (this.mode === 'legacy') return this.legacyKeepalive(payload, viaSerial);
    const opts = parseKeepaliveOptions(payload);
    const wasAlive = this.keepalive.alive;
    const outcome = this.keepalive.refresh(opts);
    if (!wasAlive) this.emit('alive', true);
    if (outcome === 'republish') this.fullPublish(opts);
    else if (outcome === 'rate-limited') this.log.debug('keep-alive: full republish skipped, more than 3 per second (K6)');
    this.keepalive.startHeartbeat();
    return outcome;
  }

  private fullPublish(opts: KeepaliveOptions): void {
    for (const service of this.cache.services.values()) {
      for (const item of service.items.values()) this.publishItem(service, item);
    }
    const value = unixNow();
    const payload = opts.echo !== undefined
      ? `{"full-publish-completed-echo":${JSON.stringify(opts.echo)},"value":${value}}`
      : `{"value":${value}}`;
    this.publishSpecial('full_publish_completed', payload);
    this.emit('full-publish-completed', { value, echo: opts.echo, payload } as FullPublishCompleted);
  }

  private legacyKeepalive(payload: string, viaSerial: boolean): 'legacy' | 'invalid' {
    let filters: string[];
    const trimmed = payload.trim();
    if (viaSerial || trimmed === '') {
      filters = [ALL]; // K-P2, K-P4
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(trimmed);
      } catch (e) {
        this.log.warn(`keep-alive payload is not JSON, not refreshed: ${(e as Error).message}`);
        return 'invalid';
      }
      if (Array.isArray(parsed)) filters = parsed as string[];
      else if (parsed && typeof parsed === 'object' && 'keepalive-options' in parsed) filters = [ALL]; // F-style client
      else {
        this.log.warn('keep-alive payload must be a JSON list of topic filters; not refreshed');
        return 'invalid';
      }
    }
    let fresh: string[];
    try {
      fresh = this.legacy.refresh(filters);
    } catch (e) {
      this.log.warn(`keep-alive not refreshed: ${(e as Error).message}`);
      return 'invalid';
    }
    if (viaSerial) this.publishLegacySerial();
    if (!this.legacyTimer) {
      this.legacyTimer = setInterval(() => this.legacyExpire(), Math.min(10000, Math.max(100, this.timing.aliveMs / 6)));
    }
    if (fresh.length) {
      // Publish what the new filters cover and was not published yet, sorted by topic (K-P2/3).
      const todo: Array<[string, Service, Item]> = [];
      for (const service of this.cache.services.values()) {
        for (const item of service.items.values()) {
          const topic = service.topicOf(item);
          if (this.legacyPublished.has(topic) || service.isBlocked(item) || this.isSerial(service, item)) continue;
          if (this.legacy.matches(topic.slice(this.portal!.length + 3))) todo.push([topic, service, item]);
        }
      }
      todo.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      for (const [, s, i] of todo) this.publishItem(s, i);
      if (this.legacy.size === fresh.length) this.emit('alive', true);
    }
    return 'legacy';
  }

  private legacyExpire(): void {
    if (this.legacy.expire() === 0) return;
    if (!this.legacy.hasAll) {
      for (const topic of [...this.legacyPublished]) {
        if (this.legacy.matches(topic.slice(this.portal!.length + 3))) continue;
        this.legacyPublished.delete(topic);
        this.out(topic, '', true);
      }
    }
    if (this.legacy.size === 0) {
      if (this.legacyTimer) clearInterval(this.legacyTimer);
      this.legacyTimer = undefined;
      this.emit('alive', false);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Reads (R2–R5)

  private resolve(addr: ItemAddress): Service {
    const service = this.cache.route(shortServiceType(addr.type), addr.instance);
    if (!service) throw new RequestError(`can't find a D-Bus service for ${addr.type}/${addr.instance}`);
    return service;
  }

  /**
   * Re-reads a path from D-Bus (never from the cache: some paths never signal, R2). A path the
   * cache does not know is read as a sub-tree (R3); `/` reads the whole service (R5).
   * With `publish`, the results go out as notifications whether or not the system is alive.
   * With `acceptLeaf`, a plain value for an unlisted path is taken as a new item (flows only).
   */
  async read(addr: ItemAddress, opts: { publish?: boolean; acceptLeaf?: boolean } = {}): Promise<ReadItem[]> {
    const service = this.resolve(addr);
    const known = service.items.get(addr.path);
    let reply: TypedValue;
    try {
      reply = await this.reads.run(`${service.name}${addr.path}`, () => this.source.getValue(service.name, addr.path));
    } catch (e) {
      const err = e as Error & { errorName?: string };
      throw new RequestError(`GetValue on ${service.name} ${addr.path} failed: ${err.message}${err.errorName ? ` (${err.errorName})` : ''}`);
    }
    if (this.cache.services.get(service.name) !== service) throw new RequestError(`${service.name} left the bus during the read`);
    const touched: Item[] = [];
    if (known) {
      const inner = unwrapVariant(reply);
      known.update(inner);
      touched.push(known);
    } else {
      const dict = subTreeEntries(reply);
      if (!dict && opts.acceptLeaf) {
        // Flows get an answer for a leaf the scan did not list; MQTT keeps dbus-flashmq's R4.
        touched.push(this.applyItem(service, { path: addr.path, value: unwrapVariant(reply) })!);
      } else if (!dict) {
        throw new RequestError(`${addr.path} is not a known item of ${service.name} and not a sub-tree (R4)`);
      }
      for (const [rel, value] of dict ?? []) {
        const path = joinPath(addr.path, rel);
        const si = { path, value };
        touched.push(this.applyItem(service, si)!);
      }
    }
    const out: ReadItem[] = [];
    for (const item of touched) {
      if (service.isBlocked(item)) continue;
      if (opts.publish) this.publishItem(service, item, true);
      this.update('read', service, item);
      out.push(this.readItem(service, item));
    }
    return out;
  }

  readItem(service: Service, item: Item): ReadItem {
    return {
      service: service.name,
      type: service.type,
      instance: service.instance,
      path: item.path,
      topic: service.topicOf(item),
      payload: service.payloadOf(item),
      value: toPlain(item.sig, item.value),
      min: item.min ? toPlain(item.min.signature, item.min.value) : undefined,
      max: item.max ? toPlain(item.max.signature, item.max.value) : undefined,
    };
  }

  // ---------------------------------------------------------------------------------------
  // Writes (W2–W5, plus write feedback and the write policy)

  /** A W request payload (`{"value":…}`) as text. */
  async writeJson(addr: ItemAddress, payload: string, source: 'mqtt' | 'flow'): Promise<WriteResult> {
    let lit: JsonLiteral;
    try {
      lit = parseJsonLiteral(payload);
    } catch (e) {
      return this.writeFailed(addr, source, e instanceof JsonSyntaxError ? e.message : `invalid JSON: ${(e as Error).message}`);
    }
    if (lit.kind !== 'object' || !lit.entries.has('value')) {
      return this.writeFailed(addr, source, `can't find 'value' in the JSON payload (expected {"value": …})`);
    }
    return this.writeLiteral(addr, lit.entries.get('value')!, source);
  }

  /** Writes a parsed JSON value to an item, typed per W4 (the item's own type where known). */
  async writeLiteral(addr: ItemAddress, lit: JsonLiteral, source: 'mqtt' | 'flow'): Promise<WriteResult> {
    let service: Service;
    try {
      service = this.resolve(addr);
    } catch (e) {
      return this.writeFailed(addr, source, (e as Error).message);
    }
    const item = service.items.get(addr.path);
    if (!item) return this.writeFailed(addr, source, `${addr.path} is not a known item of ${service.name}`, service);
    const refused = checkWritePolicy(this.writePolicy, { type: service.type, instance: service.instance, path: addr.path });
    if (refused) return this.writeFailed(addr, source, refused, service);
    // J4: a written pincode or access-point password is never echoed, not even in errors
    const masked = isMaskedSetting(service.type, addr.path);
    let value: TypedValue;
    try {
      value = toDbusValue(lit, isInvalid(item.typed) ? item.typeSig : item.sig);
    } catch (e) {
      if (!(e instanceof WriteTypeError)) throw e;
      return this.writeFailed(addr, source, masked ? `the value does not fit this ${item.typeSig ?? ''} item (not shown: masked setting)` : e.message, service);
    }
    const base = { topic: this.writeTopic(addr), service: service.name, path: addr.path, source,
      value: masked ? '******' : toPlain(value.signature, value.value), signature: value.signature };
    let code: number;
    try {
      code = await this.source.setValue(service.name, addr.path, value);
    } catch (e) {
      return this.report({ ...base, ok: false, error: `SetValue failed: ${(e as Error).message}` });
    }
    if (code !== 0) {
      return this.report({ ...base, ok: false, code, error: `SetValue returned ${code}: ${SET_VALUE_CODES[code] ?? 'refused'}` });
    }
    return this.report({ ...base, ok: true, code });
  }

  private writeTopic(addr: ItemAddress): string {
    return `W/${this.portal ?? '?'}/${addr.type}/${addr.instance}${addr.path}`;
  }

  private writeFailed(addr: ItemAddress, source: 'mqtt' | 'flow', error: string, service?: Service): WriteResult {
    return this.report({ ok: false, topic: this.writeTopic(addr), service: service?.name, path: addr.path, error, source });
  }

  private report(r: WriteResult): WriteResult {
    if (!r.ok) this.log.warn(`write ${r.topic} refused: ${r.error}`);
    this.emit('write-result', r);
    return r;
  }

  // ---------------------------------------------------------------------------------------
  // Views for the nodes and the editor

  /** Every cached item (optionally of one service). */
  *items(): Generator<[Service, Item]> {
    for (const service of this.cache.services.values()) {
      for (const item of service.items.values()) if (!service.isBlocked(item)) yield [service, item];
    }
  }
}

function unixNow(): number {
  return Math.floor(Date.now() / 1000);
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
