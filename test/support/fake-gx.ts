// A small dbus-flashmq-like GX as an MQTT peer (after the reviewer's fake GX): it answers on a
// real broker as dbus-flashmq does, with items given by the test and no D-Bus behind it. What
// it does, rule by rule: the start-up marker `N/<portal>/keepalive` `1` (K10) and the retained
// serial (N7); keep-alives on `R/<portal>/keepalive` and `R/<portal>/system/0/Serial` (K1, the
// second also a read), `suppress-republish` anywhere in the payload (K4), the echo (K5), a
// heartbeat while alive (K7); reads answered always (R2); writes carried out and notified only
// while alive (W6), with **no S/ reply** (W5), and silently dropped for the paths in
// `ignoreWrites` (as a service that refuses a value); GUI v2 apps (§8): the list and info topics
// in every full republish, chunks on request. `freeze()` makes it go quiet (as SIGSTOP would).
import { createHash } from 'crypto';
import * as mqtt from 'mqtt';
import { endClient } from '../../src/mqtt/client-end';

export interface FakeGxOptions {
  portal: string;
  /** `<type>/<instance><path>` → notification payload, e.g. `'vebus/257/Ro': '{"value":5}'` */
  items?: Record<string, string>;
  /** items whose writes are dropped without a trace */
  ignoreWrites?: string[];
  /** GUI v2 apps: name → the file's bytes */
  apps?: Record<string, Buffer>;
  heartbeatMs?: number;
  aliveMs?: number;
}

export interface FakeGxRequest {
  topic: string;
  payload: string;
}

const CHUNK_BYTES = 4096;

export class FakeGx {
  readonly portal: string;
  readonly items = new Map<string, string>();
  /** every R and W it received, in order */
  readonly received: FakeGxRequest[] = [];
  /** full republishes done (keep-alives without suppress-republish) */
  fullPublishes = 0;
  private readonly ignore: Set<string>;
  private readonly apps: Map<string, Buffer>;
  private client: mqtt.MqttClient | undefined;
  private alive = false;
  private aliveTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private frozen = false;

  constructor(private readonly opts: FakeGxOptions) {
    this.portal = opts.portal;
    this.items.set('system/0/Serial', `{"value":"${opts.portal}"}`);
    for (const [k, v] of Object.entries(opts.items ?? {})) this.items.set(k, v);
    this.ignore = new Set(opts.ignoreWrites ?? []);
    this.apps = new Map(Object.entries(opts.apps ?? {}));
  }

  async start(url: string): Promise<this> {
    const client = mqtt.connect(url, { clientId: `fake-gx-${Math.random().toString(16).slice(2, 10)}`, reconnectPeriod: 200 });
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload.toString('utf8')));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync([`R/${this.portal}/#`, `W/${this.portal}/#`]);
    client.publish(`N/${this.portal}/system/0/Serial`, this.items.get('system/0/Serial')!, { retain: true });
    client.publish(`N/${this.portal}/keepalive`, '1');
    return this;
  }

  /** Goes quiet: no heartbeat, no answers, requests ignored (the socket stays open). */
  freeze(): void {
    this.frozen = true;
  }

  thaw(): void {
    this.frozen = false;
  }

  /** The item changes on the GX: published while alive (K8). */
  set(key: string, payload: string): void {
    this.items.set(key, payload);
    if (this.alive && !this.frozen) this.pub(key, payload);
  }

  private pub(rest: string, payload: string): void {
    this.client?.publish(`N/${this.portal}/${rest}`, payload);
  }

  private onMessage(topic: string, payload: string): void {
    if (this.frozen) return;
    this.received.push({ topic, payload });
    const kind = topic[0];
    const rest = topic.split('/').slice(2).join('/');
    if (kind === 'R' && (rest === 'keepalive' || rest === 'system/0/Serial')) {
      this.keepalive(payload);
      if (rest === 'system/0/Serial') this.pub(rest, this.items.get(rest)!);
    } else if (kind === 'R' && rest.startsWith('GuiCustomizations')) {
      this.guiRequest(rest);
    } else if (kind === 'R') {
      const exact = this.items.get(rest);
      if (exact !== undefined) this.pub(rest, exact);
      else for (const [k, v] of this.items) if (k.startsWith(rest.endsWith('/') ? rest : rest + '/')) this.pub(k, v);
    } else if (kind === 'W') {
      if (this.ignore.has(rest) || !this.items.has(rest)) return;
      let value: unknown;
      try {
        value = (JSON.parse(payload) as { value: unknown }).value;
      } catch {
        return;
      }
      const o = JSON.parse(this.items.get(rest)!) as Record<string, unknown>;
      o.value = value;
      this.set(rest, JSON.stringify(o));
    }
  }

  private keepalive(payload: string): void {
    this.alive = true;
    if (this.aliveTimer) clearTimeout(this.aliveTimer);
    this.aliveTimer = setTimeout(() => { this.alive = false; }, this.opts.aliveMs ?? 60000);
    if (!payload.includes('suppress-republish')) {
      this.fullPublishes++;
      for (const [k, v] of this.items) this.pub(k, v);
      this.publishApps('');
      let echo: unknown;
      try {
        const list = (JSON.parse(payload) as Record<string, unknown[]>)['keepalive-options'];
        echo = (list.find((o) => o && typeof o === 'object') as Record<string, unknown> | undefined)?.['full-publish-completed-echo'];
      } catch { /* no echo */ }
      const now = Math.floor(Date.now() / 1000);
      this.pub('full_publish_completed', typeof echo === 'string'
        ? `{"full-publish-completed-echo":${JSON.stringify(echo)},"value":${now}}` : `{"value":${now}}`);
    }
    if (!this.heartbeat) {
      const beat = () => {
        if (!this.alive) {
          clearInterval(this.heartbeat);
          this.heartbeat = undefined;
        } else if (!this.frozen) {
          this.pub('heartbeat', `{"value":${Math.floor(Date.now() / 1000)}}`);
        }
      };
      beat();
      this.heartbeat = setInterval(beat, this.opts.heartbeatMs ?? 3000);
    }
  }

  /** The GUI v2 app topics as dbus-flashmq writes them (§8): not wrapped in `value`, keys sorted. */
  appTopics(): Map<string, string> {
    const out = new Map<string, string>();
    const list = [...this.apps].map(([name, bytes]) => ({ name, sha256: sha256(bytes) }));
    out.set('GuiCustomizations/Applist', JSON.stringify(list));
    for (const [name, bytes] of this.apps) {
      const prefix = `R/${this.portal}/GuiCustomizations/Apps/${name}/Chunks/`;
      out.set(`GuiCustomizations/Apps/${name}/info`,
        `{"chunk_count":${Math.ceil(bytes.length / CHUNK_BYTES)},"fetch_prefix":${JSON.stringify(prefix)},"sha256":"${sha256(bytes)}"}`);
    }
    return out;
  }

  private publishApps(startingWith: string): void {
    if (this.apps.size === 0) return;
    for (const [t, p] of this.appTopics()) if (t.startsWith(startingWith)) this.pub(t, p);
  }

  private guiRequest(rest: string): void {
    const m = /^GuiCustomizations\/Apps\/([^/]+)\/Chunks\/(\d+)$/.exec(rest);
    if (!m) return this.publishApps(rest);
    const bytes = this.apps.get(m[1]);
    const n = Number(m[2]);
    if (!bytes || n * CHUNK_BYTES >= bytes.length) return; // out of range: nothing
    this.pub(rest, `{"base64":"${bytes.subarray(n * CHUNK_BYTES, (n + 1) * CHUNK_BYTES).toString('base64')}"}`);
  }

  async stop(): Promise<void> {
    if (this.aliveTimer) clearTimeout(this.aliveTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.aliveTimer = this.heartbeat = undefined;
    const c = this.client;
    this.client = undefined;
    if (c) await endClient(c);
  }
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
