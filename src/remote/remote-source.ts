// A GX reached over MQTT as an item source: the engine's second source beside D-Bus, with
// the same port (item-source.ts). It connects to the GX's broker (LAN, TLS, pairing token) or
// to VRM's, subscribes to `N/<portal>/#` (and `S/<portal>/#` for write replies) only, keeps the
// GX alive, builds services from notifications, reads with R, writes with W, and tells when
// the GX has gone quiet. Its parts: connection.ts, keepalive-loop.ts, stale-watch.ts,
// remote-services.ts, remote-reads.ts, remote-writes.ts, notification.ts, json-typed.ts.
import { EventEmitter } from 'events';
import type * as mqtt from 'mqtt';
import { BrokerProblem, brokerProblemOf } from '../mqtt/broker-problem';
import { endClient } from '../mqtt/client-end';
import type { ItemSource, SetValueOutcome, SourceState } from '../bridge/item-source';
import type { TypedValue } from '../bridge/typed-value';
import { explainTlsError, RemoteGxOptions, ResolvedConnection, resolveConnection } from './connection';
import { literalTextOf } from './json-typed';
import { KeepaliveLoop, KeepaliveLoopTiming, REMOTE_KEEPALIVE_TIMING, suppressPayload } from './keepalive-loop';
import { completionEcho, decodeItemPayload, parseNotificationTopic } from './notification';
import { REMOTE_READ_TIMING, RemoteReads, RemoteReadTiming } from './remote-reads';
import { RemoteLimits, RemoteService, RemoteServices, serviceLabelOf, serviceNameOf } from './remote-services';
import { REMOTE_WRITE_TIMING, RemoteWrites, RemoteWriteTiming } from './remote-writes';
import { StaleWatch } from './stale-watch';
import { connectMqtt } from '../mqtt/mqtt-connect';

export interface RemoteTiming extends KeepaliveLoopTiming, RemoteReadTiming, RemoteWriteTiming {
  /** nothing heard from the GX for this long: stale (default 10 s; 30 s through VRM) */
  staleMs: number;
  /** after the GX announces a (re)start (`N/<portal>/keepalive`), wait this long, then a full keep-alive */
  restartDelayMs: number;
  /** reconnect backoff: first and largest delay */
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

export interface RemoteSourceOptions extends RemoteGxOptions {
  timing?: Partial<RemoteTiming>;
  limits?: Partial<RemoteLimits & { maxPayloadBytes: number }>;
}

export const REMOTE_LIMITS = { maxServices: 2000, maxItems: 500000, maxPayloadBytes: 1024 * 1024 };

type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Logs each distinct problem once (per key), with a count later, so a hostile broker cannot flood the log. */
const MAX_WARN_KEYS = 200;
const REFUSED_MIN_MS = 30000;
const REFUSED_MAX_MS = 300000;
/** an `N/<portal>/keepalive` this soon after our own bridge published one is taken for that one */
const OWN_MARKER_MS = 2000;

export class RemoteGxSource extends EventEmitter implements ItemSource {
  readonly portalId: string;
  private readonly conn: ResolvedConnection;
  private readonly timing: RemoteTiming;
  private readonly maxPayloadBytes: number;
  private client: mqtt.MqttClient | undefined;
  private _state: SourceState = 'disconnected';
  private stopped = true;
  private readonly nPrefix: string;
  private readonly sPrefix: string;
  private readonly services: RemoteServices;
  private readonly keepalive: KeepaliveLoop;
  private readonly staleWatch: StaleWatch;
  private readonly reads: RemoteReads;
  private readonly writes: RemoteWrites;
  /** the payload of every R we publish besides keep-alives (see getValue) */
  private readonly readPayload: string;
  /** `"caller_id":"<ours>"`, in every R and W payload we publish */
  private readonly ownMark: string;
  /** when the bridge over this source last published `N/<portal>/keepalive` on its own broker */
  private ownMarkerAt = 0;
  /** the first full republish of this connection is in (or its fall-back time is over) */
  private scannedThisConnection = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly warned = new Map<string, number>();
  private lastError = '';
  private _problem: BrokerProblem | undefined;
  /** refresh() calls waiting for the completion of their full republish */
  private readonly refreshes = new Set<{ generation: number; resolve: (done: boolean) => void; timer: NodeJS.Timeout }>();

  constructor(opts: RemoteSourceOptions) {
    super();
    this.conn = resolveConnection(opts);
    this.portalId = opts.portalId.trim();
    this.timing = {
      ...REMOTE_KEEPALIVE_TIMING, ...REMOTE_READ_TIMING, ...REMOTE_WRITE_TIMING,
      staleMs: this.conn.vrm ? 30000 : 10000, restartDelayMs: 2000, reconnectMinMs: 1000, reconnectMaxMs: 15000,
      ...opts.timing,
    };
    const limits = { ...REMOTE_LIMITS, ...opts.limits };
    this.maxPayloadBytes = limits.maxPayloadBytes;
    this.nPrefix = `N/${this.portalId}/`;
    this.sPrefix = `S/${this.portalId}/`;
    this.reads = new RemoteReads(this.timing);
    this.writes = new RemoteWrites(this.timing);
    this.readPayload = suppressPayload(this.writes.callerId);
    this.ownMark = `"caller_id":"${this.writes.callerId}"`;
    this.services = new RemoteServices({
      service: (name, items, info) => this.emit('service', name, items, info),
      changes: (name, items) => this.emit('changes', name, items),
      gone: (name) => this.emit('service-gone', name),
      busName: (name, busName) => this.emit('bus-name', name, busName),
      warn: (key, text) => this.warnOnce(key, text),
    }, limits);
    this.keepalive = new KeepaliveLoop({
      send: (payload) => this.publish(`R/${this.portalId}/keepalive`, payload),
      fullStarted: () => {
        this.log('debug', `${this.conn.label}: asking for a full republish`);
        return this.services.nextGeneration();
      },
      completed: (generation) => this.fullPublishCompleted(generation),
      fallback: () => this.scanFallback(),
    }, this.timing, this.writes.callerId);
    this.staleWatch = new StaleWatch(this.timing.staleMs, {
      changed: (stale, detail) => {
        this.log(stale ? 'warn' : 'info', `${this.conn.label}: ${stale ? 'stale' : 'no longer stale'}: ${detail}`);
        this.emit('stale', stale, detail);
      },
      retry: () => this.keepalive.full(),
    });
  }

  get state(): SourceState {
    return this._state;
  }

  get stale(): boolean {
    return this.staleWatch.stale;
  }

  get label(): string {
    return this.conn.label;
  }

  /**
   * Why the last attempt to reach the GX's broker failed (a refused login, an untrusted
   * certificate, nobody listening…), in a few words; undefined once connected.
   */
  get problem(): BrokerProblem | undefined {
    return this._problem;
  }

  /** through VRM's servers (not the GX's own broker) */
  get vrm(): boolean {
    return this.conn.vrm;
  }

  /** the broker URL (no credentials) */
  get url(): string {
    return this.conn.url;
  }

  get itemCount(): number {
    return this.services.items;
  }

  /** the `caller_id` our writes carry (a bridge that replies on S/ echoes it) */
  get callerId(): string {
    return this.writes.callerId;
  }

  private setState(s: SourceState, detail?: string): void {
    if (this._state === s) return;
    this._state = s;
    this.emit('state', s, detail);
  }

  private log(level: LogLevel, text: string): void {
    this.emit('log', level, text);
  }

  private warnOnce(key: string, text: string): void {
    const n = this.warned.get(key);
    if (n === undefined) {
      if (this.warned.size >= MAX_WARN_KEYS) return;
      this.warned.set(key, 1);
      this.log('warn', text);
      return;
    }
    this.warned.set(key, n + 1);
    if ((n + 1) % 1000 === 0) this.log('warn', `${text} (${n + 1} times)`);
  }

  // ---------------------------------------------------------------------------------------
  // Connection lifetime

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.setState('connecting', this.conn.label);
    const min = this.timing.reconnectMinMs;
    const max = Math.max(min, this.timing.reconnectMaxMs);
    const client = connectMqtt(this.conn.url, { ...this.conn.mqtt, reconnectPeriod: min });
    this.client = client;
    if (this.conn.tls && this.conn.mqtt.rejectUnauthorized === false) {
      this.log('warn', `TLS certificate of ${this.conn.label} is NOT verified (told not to)`);
    }
    // a refused login is retried slowly (the GX counts and delays failed logins): 30 s … 5 min
    let refused = false;
    client.on('reconnect', () => {
      // capped exponential backoff: MQTT.js reads reconnectPeriod when it schedules each attempt
      const p = client.options.reconnectPeriod ?? min;
      client.options.reconnectPeriod = refused ? Math.min(REFUSED_MAX_MS, Math.max(REFUSED_MIN_MS, p * 2)) : Math.min(max, p * 2);
      this.setState('connecting', this.conn.label);
    });
    client.on('connect', () => {
      client.options.reconnectPeriod = min;
      refused = false;
      this.lastError = '';
      if (this._problem) {
        this._problem = undefined;
        this.emit('problem', undefined);
      }
      // a new session: what the GX sends from now on (the retained serial first) is all there is
      this.scannedThisConnection = false;
      this.services.clear();
      this.subscribe(client);
    });
    client.on('close', () => this.connectionLost('the connection closed'));
    client.on('offline', () => this.connectionLost('offline'));
    client.on('error', (err: Error & { code?: string | number }) => {
      if (typeof err.code === 'number') refused = true; // a CONNACK refusal (bad login, not authorised)
      const problem = brokerProblemOf(err);
      const changed = problem.reason !== this._problem?.reason;
      this._problem = problem;
      if (changed) this.emit('problem', problem);
      const text = explainTlsError(err, this.conn);
      if (text === this.lastError) return; // one line per distinct problem, not one per retry
      this.lastError = text;
      this.log('warn', `${this.conn.label}: ${text}`);
    });
    client.on('message', (topic: string, payload: Buffer, packet: mqtt.IPublishPacket) => {
      try {
        this.onMessage(topic, payload, packet.retain);
      } catch (e) {
        this.warnOnce('message-error', `ignored a message on ${topic.slice(0, 120)}: ${(e as Error).message}`);
      }
    });
  }

  /** N/<portal>/# must be granted; S/<portal>/# may be refused (then writes are confirmed by notification). */
  private subscribe(client: mqtt.MqttClient): void {
    client.subscribe(`N/${this.portalId}/#`, { qos: 0 }, (err) => {
      if (this.client !== client) return;
      if (err) {
        this._problem = { reason: 'no access', permanent: true, detail: err.message };
        this.log('error', `${this.conn.label}: the broker refused the subscription to N/${this.portalId}/# (${err.message}); check the user's permissions`);
        this.emit('problem', this._problem);
        return;
      }
      this.setState('connected', this.conn.label);
      this.log('info', `connected to ${this.conn.label}`);
      this.staleWatch.start();
      this.keepalive.start();
    });
    client.subscribe(`S/${this.portalId}/#`, { qos: 0 }, (err) => {
      if (this.client !== client) return;
      this.writes.repliesSubscribed = !err;
      if (err) this.log('info', `${this.conn.label}: no write replies (S/${this.portalId}/# refused: ${err.message}); writes are confirmed by notification`);
    });
  }

  private connectionLost(why: string): void {
    if (this.stopped) return;
    const wasConnected = this._state === 'connected';
    if (wasConnected) this.log('warn', `${this.conn.label}: connection lost (${why}); reconnecting`);
    // disconnected first: "no longer stale" while still connected would look like the GX is back
    this.setState('disconnected', why);
    this.teardownSession(new Error(`the connection to ${this.conn.label} was lost`));
  }

  /** Stops the loops and forgets the GX's state (the engine drops every service on 'disconnected'). */
  private teardownSession(err: Error): void {
    this.keepalive.stop();
    this.staleWatch.stop();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.reads.failAll(err);
    this.writes.connectionLost();
    this.services.clear();
    this.scannedThisConnection = false;
    this.settleRefreshes(Infinity, false);
  }

  async stop(): Promise<void> {
    if (this.stopped) {
      this.setState('closed');
      return;
    }
    this.stopped = true;
    this.teardownSession(new Error('the remote GX source was closed'));
    const client = this.client;
    this.client = undefined;
    this.setState('closed');
    if (client) await endClient(client);
  }

  private publish(topic: string, payload: string): boolean {
    const client = this.client;
    if (!client || !client.connected || this._state !== 'connected') return false;
    client.publish(topic, payload, { qos: 0, retain: false });
    return true;
  }

  // ---------------------------------------------------------------------------------------
  // Incoming

  private onMessage(topic: string, payload: Buffer, retain: boolean): void {
    if (!topic.startsWith(this.nPrefix)) {
      if (topic.startsWith(this.sPrefix)) this.writes.onReply(topic.slice(this.sPrefix.length), payload);
      else this.warnOnce('foreign', `ignored a message on '${topic.slice(0, 120)}': not for portal ${this.portalId}`);
      return;
    }
    // a retained message is the broker's, not a sign of the GX (the serial at subscribing)
    if (!retain) this.staleWatch.heard();
    const t = parseNotificationTopic(topic.slice(this.nPrefix.length));
    if (t.kind === 'special') {
      if (t.name === 'full_publish_completed') this.keepalive.onCompleted(completionEcho(payload));
      else if (t.name === 'keepalive') this.gxRestarted();
      return;
    }
    if (t.kind === 'invalid') {
      this.warnOnce(`topic:${t.why}`, `ignored notification '${topic.slice(0, 120)}': ${t.why}`);
      return;
    }
    // F retains only system/0/Serial (N7); anything else retained is left over from an older
    // bridge (dbus-mqtt) or kept by a broker, and may be long out of date: the keep-alive gets it fresh
    if (retain && !(t.type === 'system' && t.instance === '0' && t.path === '/Serial')) return;
    const d = decodeItemPayload(payload, this.maxPayloadBytes);
    if (d.kind === 'gone') {
      this.services.remove(t.key, t.path);
      return;
    }
    if (d.kind === 'bad') {
      this.warnOnce(`payload:${d.why.replace(/\d+/g, '#')}`, `ignored notification on ${topic.slice(0, 120)}: ${d.why}`);
      return;
    }
    const taken = this.reads.busy && this.reads.offer(serviceNameOf(t.type, t.instance), t.path, d.value);
    this.services.set(t.key, t.type, t.instance, t.path, d.value, d.min, d.max, taken);
    if (this.writes.busy) this.writes.offer(serviceNameOf(t.type, t.instance), t.path, d.value);
  }

  private fullPublishCompleted(generation: number): void {
    this.settleRefreshes(generation, true);
    if (!this.scannedThisConnection) {
      this.scannedThisConnection = true;
      const n = this.services.flush();
      this.log('debug', `${this.conn.label}: first full republish complete: ${n} services, ${this.services.items} items`);
      this.emit('scanned', this.services.services.size);
      return;
    }
    this.services.sweep(generation);
  }

  private scanFallback(): void {
    if (this.scannedThisConnection) return;
    this.scannedThisConnection = true;
    // not even an answer to the keep-alive: whatever the stale time, this GX is not there
    if (!this.staleWatch.heardSinceStart) this.staleWatch.silent(`nothing heard from the GX since connecting (${Math.round(this.timing.scanFallbackMs / 1000)} s)`);
    this.log('warn', `${this.conn.label}: no full_publish_completed with our echo within ${this.timing.scanFallbackMs} ms ` +
      '(Venus OS before 3.50 sends no echo; a GX limits full republishes to 3 per second): going on with what arrived');
    this.services.flush();
    this.emit('scanned', this.services.services.size);
  }

  /**
   * `N/<portal>/keepalive`: the GX's bridge (re)started (K10); once it has settled, a full
   * keep-alive. Not when our own bridge has just announced itself the same way on its broker:
   * then it is most likely that one, come back (the bridge's broker is the GX's, or bridged to
   * it); a suppress keep-alive goes instead, whose caller_id that bridge recognises if it loops.
   */
  private gxRestarted(): void {
    if (this._state !== 'connected' || this.restartTimer) return;
    if (Date.now() - this.ownMarkerAt < OWN_MARKER_MS) {
      this.warnOnce('own-marker', `${this.conn.label}: N/${this.portalId}/keepalive came right after our own bridge published one on ` +
        'its broker: taken for ours, not for a restart of the GX. Is that broker the GX\'s own, or bridged to it? That would loop');
      this.keepalive.touch();
      return;
    }
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.log('info', `${this.conn.label}: the GX announced a (re)start; asking for everything again`);
      this.keepalive.full();
    }, this.timing.restartDelayMs);
  }

  /** The bridge over this source has just published `N/<portal>/keepalive` on its own broker (K10). */
  ownMarkerSent(): void {
    this.ownMarkerAt = Date.now();
  }

  /**
   * Whether a request payload is one of ours: every R and W we publish carries our caller_id.
   * One that reaches the bridge over this source through its broker means a loop.
   */
  isOwnRequest(payload: Buffer | string): boolean {
    return payload.includes(this.ownMark);
  }

  /**
   * Asks the GX for a fresh full republish now (a full keep-alive with our echo, K3, K5), so
   * that the cache is current, e.g. before the engine republishes it to its own clients.
   * Resolves true once the GX's republish is complete, false when it did not complete within
   * `timeoutMs` (default: the scan fall-back time; the GX allows 3 full republishes per second,
   * K6, and a stale GX may not answer at all). Rejects when not connected.
   */
  refresh(timeoutMs = this.timing.scanFallbackMs): Promise<boolean> {
    const generation = this._state === 'connected' ? this.keepalive.full() : undefined;
    if (generation === undefined) return Promise.reject(new Error(`not connected to ${this.conn.label}`));
    return new Promise((resolve) => {
      const w = {
        generation, resolve,
        timer: setTimeout(() => {
          this.refreshes.delete(w);
          resolve(false);
        }, timeoutMs),
      };
      this.refreshes.add(w);
    });
  }

  private settleRefreshes(upTo: number, done: boolean): void {
    for (const w of [...this.refreshes]) {
      if (w.generation > upTo) continue;
      clearTimeout(w.timer);
      this.refreshes.delete(w);
      w.resolve(done);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Requests (the port)

  private serviceOf(name: string): RemoteService {
    const svc = this.services.services.get(name);
    if (!svc || !svc.announced) throw new Error(`${serviceLabelOf(name)} is not a service of ${this.conn.label}`);
    return svc;
  }

  async getValue(service: string, path: string): Promise<TypedValue> {
    const svc = this.serviceOf(service);
    if (this._state !== 'connected') throw new Error(`not connected to ${this.conn.label}`);
    const rest = `${svc.type}/${svc.instance}`;
    // not empty: dbus-flashmq takes an R on system/0/Serial for a keep-alive too (K1), and one
    // without suppress-republish would make the GX republish everything; other reads ignore it (R1)
    const R = (p: string) => this.publish(`R/${this.portalId}/${rest}${p === '/' ? '/' : p}`, this.readPayload);
    const what = `R/${this.portalId}/${rest}${path === '/' ? '/' : path}`;
    if (svc.paths.has(path)) return this.reads.leaf(service, path, what, () => R(path));
    return this.reads.tree(service, path, svc.paths.keys(), what, R);
  }

  async setValue(service: string, path: string, value: TypedValue): Promise<SetValueOutcome> {
    const svc = this.serviceOf(service);
    const literal = literalTextOf(value);
    const rest = `${svc.type}/${svc.instance}${path}`;
    return this.writes.write(service, path, rest, literal, value,
      (payload) => this.publish(`W/${this.portalId}/${rest}`, payload),
      () => this.publish(`R/${this.portalId}/${rest}`, this.readPayload));
  }
}
