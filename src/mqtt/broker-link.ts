// The engine on an MQTT broker: subscribes to `R/<portal>/#` and `W/<portal>/#`, hands every
// request to the engine and publishes the engine's notifications. Usable headless (gx-bridge)
// and from the gx-config node; it never imports Node-RED.
import { EventEmitter } from 'events';
import type * as mqtt from 'mqtt';
import type { Duplex } from 'stream';
import { GxEngine, Logger, OutMessage } from '../bridge/engine';
import { logText } from '../bridge/log-text';
import { MAX_REQUEST_PAYLOAD } from '../bridge/request-limits';
import { BrokerProblem, brokerProblemOf } from './broker-problem';
import { endClient } from './client-end';
import { OversizedPublishFilter } from './oversized-filter';
import { PacketSink, PublishWriter } from './publish-writer';
import { connectMqtt } from './mqtt-connect';

export type { BrokerProblem } from './broker-problem';

/** 4 = MQTT 3.1.1; 'auto' = 5, and 3.1.1 once a broker refuses 5 */
export type MqttVersion = 4 | 5 | 'auto';

/**
 * The largest packet we take from the broker: the longest topic MQTT allows, a request payload
 * at its limit, and room for the header and MQTT 5 properties. Announced in CONNECT on MQTT 5;
 * on 3.1.1 larger ones are skipped unread (oversized-filter.ts).
 */
export const MAX_PACKET_BYTES = 65535 + MAX_REQUEST_PAYLOAD + 4096;

export interface TlsOptions {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** verify the broker's certificate (default true) */
  rejectUnauthorized?: boolean;
  servername?: string;
}

export interface BrokerLinkOptions {
  /** mqtt://, mqtts://, ws://, wss:// */
  url: string;
  clientId?: string;
  username?: string;
  password?: string;
  tls?: TlsOptions;
  /**
   * MQTT protocol: 'auto' (default) = 5, falling back to 3.1.1 when the broker refuses 5. On 5
   * we subscribe with retain-as-published, so a retained request published while we are
   * connected is recognised and ignored (W8); on 3.1.1 the broker clears that flag.
   */
  protocolVersion?: MqttVersion;
  /** first reconnect delay; it doubles on every failed attempt up to reconnectMaxMs */
  reconnectPeriodMs?: number;
  reconnectMaxMs?: number;
  /**
   * after a problem that retrying soon cannot fix (a refused login, an untrusted certificate):
   * first delay, doubling up to the largest. The link never gives up: fixing the broker is
   * enough, no redeploy needed.
   */
  slowRetryMinMs?: number;
  slowRetryMaxMs?: number;
  connectTimeoutMs?: number;
  /** bytes waiting in the socket beyond which notifications are dropped (slow broker) */
  maxBufferedBytes?: number;
  /**
   * Put before every topic published and subscribed (`<prefix>N/…`, `<prefix>R/<portal>/#`,
   * `<prefix>W/<portal>/#`), e.g. `victron/`: for brokers shared with other systems.
   */
  topicPrefix?: string;
  logger?: Logger;
}

export type LinkState = 'connecting' | 'connected' | 'disconnected' | 'closed';

/** The URL without credentials, for logs and status. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}

/** `victron` → `victron/`; no wildcards, no leading `/` or `$`. */
export function normalizeTopicPrefix(prefix: string | undefined): string {
  const p = (prefix ?? '').trim();
  if (p === '') return '';
  if (/[+#]/.test(p) || p.includes('\0') || p.startsWith('$')) throw new Error(`'${p}' cannot be a topic prefix (no +, # or leading $)`);
  return p.endsWith('/') ? p : p + '/';
}

export class BrokerLink extends EventEmitter {
  private client: mqtt.MqttClient | undefined;
  private _state: LinkState = 'disconnected';
  private subscribedPortal: string | undefined;
  private readonly log: Logger;
  /** notifications dropped because the broker was unreachable or too slow */
  dropped = 0;
  published = 0;
  private readonly onPublish = (m: OutMessage) => this.publish(m);
  private readonly writer: PublishWriter;
  private readonly onPortal = () => this.subscribe();
  private _problem: BrokerProblem | undefined;
  private readonly prefix: string;

  constructor(readonly engine: GxEngine, private readonly opts: BrokerLinkOptions) {
    super();
    this.log = opts.logger ?? engine.logger;
    if (!/^(mqtts?|wss?|tcp|ssl):\/\//.test(opts.url)) {
      throw new Error(`not an MQTT broker URL: '${redactUrl(opts.url)}' (use mqtt://, mqtts://, ws:// or wss://)`);
    }
    this.prefix = normalizeTopicPrefix(opts.topicPrefix);
    this.writer = new PublishWriter(() => this.sink(), opts.protocolVersion !== 4);
  }

  get state(): LinkState {
    return this._state;
  }

  get label(): string {
    return redactUrl(this.opts.url);
  }

  /** why the last connection attempt failed; undefined while connected or before the first failure */
  get problem(): BrokerProblem | undefined {
    return this._problem;
  }

  private setState(s: LinkState, detail?: string): void {
    if (this._state === s) return;
    this._state = s;
    this.emit('state', s, detail);
  }

  start(): void {
    if (this.client) return;
    const o = this.opts;
    const tls = o.tls ?? {};
    this.setState('connecting', this.label);
    const v5 = o.protocolVersion !== 4;
    const client = connectMqtt(o.url, {
      clientId: o.clientId || `gx-bridge-${Math.random().toString(16).slice(2, 10)}`,
      username: o.username || undefined,
      password: o.password || undefined,
      protocolVersion: v5 ? 5 : 4,
      // MQTT 5: the broker never sends us more than this (oversized requests, spec §10)
      properties: v5 ? { maximumPacketSize: MAX_PACKET_BYTES } : undefined,
      reconnectPeriod: o.reconnectPeriodMs ?? 1000,
      // MQTT.js gives up for good after a refused CONNACK unless told otherwise; a password
      // fixed on the broker must be picked up without a redeploy
      reconnectOnConnackError: true,
      connectTimeout: o.connectTimeoutMs ?? 10000,
      clean: true,
      resubscribe: false, // we subscribe ourselves on every connect
      queueQoSZero: false, // nothing piles up while the broker is away
      manualConnect: true,
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      rejectUnauthorized: tls.rejectUnauthorized !== false,
      servername: tls.servername,
    });
    this.filterIncoming(client);
    client.connect();
    this.client = client;
    if (tls.rejectUnauthorized === false && /^(mqtts|wss|ssl):/.test(o.url)) {
      this.log.warn(`TLS certificate of ${this.label} is NOT verified (told not to)`);
    }
    // Capped exponential backoff, chosen per failure: MQTT.js reads reconnectPeriod when it
    // schedules the next attempt, which is after the 'error' of the failed attempt.
    const firstDelay = o.reconnectPeriodMs ?? 1000;
    const maxDelay = Math.max(firstDelay, o.reconnectMaxMs ?? 15000);
    const slowFirst = o.slowRetryMinMs ?? 5000;
    const slowMax = Math.max(slowFirst, o.slowRetryMaxMs ?? 60000);
    let failures = 0;
    const plan = () => {
      const slow = this._problem?.permanent === true;
      const [first, max] = slow ? [slowFirst, slowMax] : [firstDelay, maxDelay];
      client.options.reconnectPeriod = Math.min(max, first * Math.pow(2, Math.max(0, failures - 1)));
    };
    client.on('reconnect', () => {
      failures++;
      plan();
      this.setState('connecting', this.label);
    });
    client.on('connect', () => {
      // No Nagle: our packets are already batched per event-loop turn, and Nagle's wait for the
      // broker's delayed ACK put ~40 ms on the tail of each batch (bench S2 p99).
      (client.stream as unknown as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
      failures = 0;
      client.options.reconnectPeriod = firstDelay;
      const recovered = this._problem !== undefined;
      lastError = '';
      this._problem = undefined;
      this.writer.mqtt5 = client.options.protocolVersion === 5;
      this.subscribedPortal = undefined;
      this.setState('connected', this.label);
      this.log.info(`connected to MQTT broker ${this.label} (MQTT ${client.options.protocolVersion === 5 ? '5' : '3.1.1'})${recovered ? ' again' : ''}`);
      this.subscribe();
    });
    const lost = () => {
      if (this._state === 'closed') return;
      if (this._state === 'connected') this.log.warn(`MQTT broker ${this.label} connection lost; reconnecting`);
      this.setState('disconnected', this._problem?.reason ?? this.label);
    };
    client.on('close', lost);
    client.on('offline', lost);
    let lastError = '';
    client.on('error', (err: Error) => {
      if (this.fallBackTo311(client, err)) return;
      const problem = brokerProblemOf(err);
      const changed = problem.reason !== this._problem?.reason;
      this._problem = problem;
      plan();
      // one line per distinct problem, not one per retry
      if (err.message !== lastError) {
        lastError = err.message;
        this.log.warn(`MQTT broker ${this.label}: ${err.message}` +
          (problem.permanent ? `; retrying every ${Math.round(slowMax / 1000)} s at most until it is fixed` : ''));
      }
      if (changed) this.emit('problem', problem);
      this.emit('broker-error', err);
    });
    client.on('message', (topic: string, payload: Buffer, packet: mqtt.IPublishPacket) => {
      if (this.prefix) {
        if (!topic.startsWith(this.prefix)) return;
        topic = topic.slice(this.prefix.length);
      }
      try {
        this.engine.handleMqttRequest(topic, payload, !!packet.retain);
      } catch (e) {
        this.log.error(`request ${logText(topic)} failed: ${(e as Error).message}`);
      }
    });
    this.engine.on('publish', this.onPublish);
    this.engine.on('portal', this.onPortal);
  }

  /** Subscribes to our portal's requests and announces ourselves (K10, N7). */
  private subscribe(): void {
    const client = this.client;
    const portal = this.engine.portalId;
    if (!client || !client.connected || !portal) return;
    const p = this.prefix;
    if (this.subscribedPortal && this.subscribedPortal !== portal) {
      client.unsubscribe([`${p}R/${this.subscribedPortal}/#`, `${p}W/${this.subscribedPortal}/#`]);
    }
    this.subscribedPortal = portal;
    // MQTT 5: retain-as-published, so that retained requests keep their flag and are ignored (W8)
    const opts = client.options.protocolVersion === 5 ? { qos: 0 as const, rap: true } : { qos: 0 as const };
    client.subscribe([`${p}R/${portal}/#`, `${p}W/${portal}/#`], opts, (err) => {
      if (err) {
        this.log.error(`cannot subscribe to ${p}R/${portal}/# and ${p}W/${portal}/# on ${this.label}: ${err.message}`);
        return;
      }
      this.engine.brokerConnected();
      this.emit('ready', portal);
    });
  }

  /**
   * 'auto': a broker that refuses MQTT 5 in its CONNACK (3.1.1 code 1, MQTT 5 code 0x84) is
   * asked again at once with 3.1.1.
   */
  private fallBackTo311(client: mqtt.MqttClient, err: Error): boolean {
    const code = (err as Error & { code?: number }).code;
    if (this.opts.protocolVersion !== undefined && this.opts.protocolVersion !== 'auto') return false;
    if (client.options.protocolVersion !== 5 || (code !== 1 && code !== 0x84)) return false;
    client.options.protocolVersion = 4;
    delete client.options.properties;
    // MQTT.js does not retry after a refusal in the CONNACK: ask again now, with 3.1.1
    setImmediate(() => {
      if (this.client === client) client.reconnect();
    });
    this.log.warn(`MQTT broker ${this.label} refused MQTT 5; using MQTT 3.1.1, where a retained request ` +
      'published while we are connected cannot be told from a live one');
    return true;
  }

  /** Oversized PUBLISH packets never reach MQTT.js's parser (MQTT 3.1.1 has no maximum packet size). */
  private filterIncoming(client: mqtt.MqttClient): void {
    const c = client as unknown as { streamBuilder: (cl: mqtt.MqttClient) => Duplex };
    const build = c.streamBuilder;
    c.streamBuilder = (cl) => {
      const stream = build(cl);
      const pipe = stream.pipe.bind(stream);
      stream.pipe = (<T extends NodeJS.WritableStream>(dest: T, o?: { end?: boolean }): T => {
        const filter = new OversizedPublishFilter(MAX_PACKET_BYTES, (d) => {
          const topic = d.topicBytes > Buffer.byteLength(d.topic) ? `${d.topic}… (${d.topicBytes} bytes)` : d.topic;
          this.log.warn(`ignored ${topic}: a packet of ${d.packetBytes} bytes is over the ${MAX_PACKET_BYTES}-byte limit (dropped unread)`);
        });
        pipe(filter);
        return filter.pipe(dest, o);
      }) as typeof stream.pipe;
      return stream;
    };
  }

  /** The broker connection, while connected. */
  private sink(): PacketSink | undefined {
    const client = this.client;
    if (!client || !client.connected) return undefined;
    return (client as unknown as { stream?: PacketSink }).stream;
  }

  private publish(m: OutMessage): void {
    const stream = this.sink();
    if (!stream) {
      this.dropped++;
      return;
    }
    if ((stream.writableLength ?? 0) + this.writer.pendingBytes > (this.opts.maxBufferedBytes ?? 64 * 1024 * 1024)) {
      this.dropped++; // a broker that cannot keep up: drop rather than grow without bound
      return;
    }
    this.published++;
    this.writer.publish(this.prefix ? this.prefix + m.topic : m.topic, m.payload, m.retain);
  }

  /** Stops for good, for a reason retrying cannot fix (shown as the link's problem), e.g. a broker that loops. */
  async abandon(problem: BrokerProblem): Promise<void> {
    this._problem = problem;
    this.emit('problem', problem);
    await this.close();
  }

  async close(): Promise<void> {
    this.engine.removeListener('publish', this.onPublish);
    this.engine.removeListener('portal', this.onPortal);
    this.writer.flush(); // what the engine published last still goes out
    const client = this.client;
    this.client = undefined;
    this.setState('closed');
    if (client) await endClient(client);
  }
}
