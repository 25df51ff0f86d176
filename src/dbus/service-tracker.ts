// The D-Bus side of the engine: one connection to a bus, discovery of every
// `com.victronenergy.*` service (ListNames, NameOwnerChanged, GetNameOwner), a scan of each
// (GetItems, else GetValue on '/', else introspection) and its change signals (ItemsChanged,
// PropertiesChanged). It reports items and changes; it never decides protocol.
import { EventEmitter } from 'events';
import * as dbus from 'dbus-next';
import './int64-range';
import { ItemSource, SetValueOutcome, SourceItem, SourceState } from '../bridge/item-source';
import { joinPath, subTreeEntries, unwrapVariant } from '../bridge/sub-tree';
import { TypedValue } from '../bridge/typed-value';
import { BusAddress, resolveBusAddress } from './address';
import { toVariant } from './variant-codec';

const { Message } = dbus;
type Msg = InstanceType<typeof Message>;

const PREFIX = 'com.victronenergy.';
const BUS_ITEM = 'com.victronenergy.BusItem';
const SIGNAL = 4; // dbus-next MessageType.SIGNAL

export interface TrackerOptions {
  /** system | session | unix:… | tcp:… | host:port */
  address?: string;
  /** timeout of a scan call (libdbus's default is about 25 s) */
  scanTimeoutMs?: number;
  /** timeout of GetValue / SetValue for requests */
  callTimeoutMs?: number;
  /** reconnect backoff: first and largest delay */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** signals that arrive during a scan are kept this long (D14) */
  earlySignalMaxAgeMs?: number;
  /** scans running at once */
  maxParallelScans?: number;
}

interface Tracked {
  name: string;
  owner: string;
  status: 'scanning' | 'ready' | 'failed';
  /** changes that arrived while the scan was running (D14) */
  early: Array<{ at: number; items: SourceItem[] }>;
  generation: number;
}

export class DbusError extends Error {
  constructor(readonly errorName: string, message: string) {
    super(message);
  }
}

export class DbusServiceTracker extends EventEmitter implements ItemSource {
  private bus: dbus.MessageBus | undefined;
  private _state: SourceState = 'disconnected';
  private readonly addr: BusAddress;
  private readonly opts: Required<Omit<TrackerOptions, 'address'>>;
  private readonly services = new Map<string, Tracked>();
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly pending = new Map<number, { reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private generation = 0;
  private stopped = true;
  private scansRunning = 0;
  private readonly scanQueue: Array<() => void> = [];

  constructor(opts: TrackerOptions = {}) {
    super();
    this.addr = resolveBusAddress(opts.address);
    this.opts = {
      scanTimeoutMs: opts.scanTimeoutMs ?? 25000,
      callTimeoutMs: opts.callTimeoutMs ?? 10000,
      reconnectMinMs: opts.reconnectMinMs ?? 500,
      reconnectMaxMs: opts.reconnectMaxMs ?? 10000,
      earlySignalMaxAgeMs: opts.earlySignalMaxAgeMs ?? 30000,
      maxParallelScans: opts.maxParallelScans ?? 16,
    };
  }

  get state(): SourceState {
    return this._state;
  }

  get address(): BusAddress {
    return this.addr;
  }

  /** Names of the services whose scan has completed. */
  get serviceNames(): string[] {
    return [...this.services.values()].filter((s) => s.status === 'ready').map((s) => s.name);
  }

  private setState(s: SourceState, detail?: string): void {
    if (this._state === s) return;
    this._state = s;
    this.emit('state', s, detail);
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', text: string): void {
    this.emit('log', level, text);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.reconnectTimer = undefined;
    this.teardown(new DbusError('Disconnected', 'the D-Bus connection was closed'));
    this.setState('closed');
  }

  // ---------------------------------------------------------------------------------------
  // Connection lifetime

  private connect(): void {
    const gen = ++this.generation;
    this.setState('connecting', this.addr.label);
    let bus: dbus.MessageBus;
    try {
      bus = dbus.sessionBus({ busAddress: this.addr.address, authMethods: this.addr.authMethods as never });
    } catch (e) {
      this.connectionLost(gen, `cannot connect to ${this.addr.label}: ${(e as Error).message}`);
      return;
    }
    this.bus = bus;
    const conn = (bus as unknown as { _connection: EventEmitter & { stream?: EventEmitter } })._connection;
    bus.on('error', (err: Error) => this.connectionLost(gen, `D-Bus error: ${err.message}`));
    conn.on('end', () => this.connectionLost(gen, 'the D-Bus connection ended'));
    conn.stream?.on('close', () => this.connectionLost(gen, 'the D-Bus connection closed'));
    bus.on('message', (msg: Msg) => {
      if (msg.type !== SIGNAL) return;
      try {
        this.onSignal(msg);
      } catch (e) {
        this.log('warn', `ignored a malformed ${msg.member} signal from ${msg.sender}: ${(e as Error).message}`);
      }
    });
    const connectTimer = this.connectTimer = setTimeout(() => this.connectionLost(gen, `no answer from ${this.addr.label}`), this.opts.callTimeoutMs);
    bus.once('connect', () => {
      clearTimeout(connectTimer);
      if (gen !== this.generation) return;
      this.onConnected(gen).catch((e: Error) => this.connectionLost(gen, `D-Bus set-up failed: ${e.message}`));
    });
  }

  private async onConnected(gen: number): Promise<void> {
    for (const rule of [
      `type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0namespace='com.victronenergy'`,
      `type='signal',interface='${BUS_ITEM}',member='ItemsChanged'`,
      `type='signal',interface='${BUS_ITEM}',member='PropertiesChanged'`,
    ]) {
      await this.callBus('AddMatch', 's', [rule]);
    }
    const names = (await this.callBus('ListNames')).body[0] as string[];
    if (gen !== this.generation) return;
    this.attempt = 0;
    this.setState('connected', this.addr.label);
    this.log('info', `connected to ${this.addr.label}`);
    await Promise.all(names.filter((n) => n.startsWith(PREFIX)).map(async (name) => {
      try {
        const owner = (await this.callBus('GetNameOwner', 's', [name])).body[0] as string;
        if (gen === this.generation && !this.services.has(name)) await this.serviceAppeared(name, owner);
      } catch (e) {
        this.log('debug', `${name} left before it could be scanned: ${(e as Error).message}`);
      }
    }));
    if (gen !== this.generation) return;
    // Every service found at start has been scanned (or has failed): the cache is complete.
    this.emit('scanned', this.serviceNames.length);
  }

  private connectionLost(gen: number, why: string): void {
    if (gen !== this.generation || this.stopped) return;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.generation++;
    this.log(this._state === 'connected' ? 'warn' : 'debug', why);
    this.teardown(new DbusError('Disconnected', why));
    this.setState('disconnected', why);
    const delay = Math.min(this.opts.reconnectMaxMs, this.opts.reconnectMinMs * Math.pow(2, this.attempt++));
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopped) this.connect();
    }, delay);
  }

  private teardown(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    this.services.clear();
    this.byOwner.clear();
    this.scanQueue.length = 0;
    this.scansRunning = 0;
    const bus = this.bus;
    this.bus = undefined;
    if (bus) {
      bus.removeAllListeners('message');
      bus.on('error', () => undefined); // late errors of a closed connection are expected
      try {
        bus.disconnect();
      } catch {
        /* already closed */
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Calls with timeouts (dbus-next itself never times out a call)

  private call(msg: Msg, timeoutMs: number): Promise<Msg> {
    const bus = this.bus;
    if (!bus) return Promise.reject(new DbusError('Disconnected', `not connected to ${this.addr.label}`));
    return new Promise<Msg>((resolve, reject) => {
      let serial = 0;
      const timer = setTimeout(() => {
        this.pending.delete(serial);
        // forget the reply handler, or a service that never answers leaks one per call
        delete (bus as unknown as { _methodReturnHandlers: Record<number, unknown> })._methodReturnHandlers[serial];
        reject(new DbusError('org.freedesktop.DBus.Error.NoReply',
          `no reply to ${msg.member} on ${msg.destination} ${msg.path} within ${timeoutMs} ms`));
      }, timeoutMs);
      bus.call(msg).then(
        (reply) => {
          this.pending.delete(serial);
          clearTimeout(timer);
          resolve(reply as Msg);
        },
        (err: Error & { type?: string; text?: string }) => {
          this.pending.delete(serial);
          clearTimeout(timer);
          reject(new DbusError(err.type ?? 'Error', err.text ?? err.message));
        },
      );
      serial = msg.serial as number;
      this.pending.set(serial, { reject, timer });
    });
  }

  private callBus(member: string, signature?: string, body?: unknown[]): Promise<Msg> {
    return this.call(new Message({
      destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus',
      member, signature, body,
    }), this.opts.callTimeoutMs);
  }

  private callItem(service: string, path: string, member: string, timeoutMs: number, signature?: string, body?: unknown[],
    iface: string | undefined = BUS_ITEM): Promise<Msg> {
    return this.call(new Message({ destination: service, path, interface: iface, member, signature, body }), timeoutMs);
  }

  async getValue(service: string, path: string): Promise<TypedValue> {
    const reply = await this.callItem(service, path, 'GetValue', this.opts.callTimeoutMs);
    if (reply.signature !== 'v') throw new DbusError('InvalidSignature', `GetValue on ${service} ${path} answered '${reply.signature}'`);
    return reply.body[0] as TypedValue;
  }

  async setValue(service: string, path: string, value: TypedValue): Promise<SetValueOutcome> {
    const reply = await this.callItem(service, path, 'SetValue', this.opts.callTimeoutMs, 'v', [toVariant(value)]);
    const code = reply.body[0];
    return { code: typeof code === 'number' ? code : 0, confirmation: 'reply' };
  }

  // ---------------------------------------------------------------------------------------
  // Discovery and scans

  private serviceAppeared(name: string, owner: string): Promise<void> {
    const old = this.services.get(name);
    if (old) this.byOwner.get(old.owner)?.delete(name);
    const t: Tracked = { name, owner, status: 'scanning', early: [], generation: (old?.generation ?? 0) + 1 };
    this.services.set(name, t);
    if (!this.byOwner.has(owner)) this.byOwner.set(owner, new Set());
    this.byOwner.get(owner)!.add(name);
    return this.queueScan(() => this.scan(t));
  }

  private serviceGone(name: string): void {
    const t = this.services.get(name);
    if (!t) return;
    this.services.delete(name);
    const set = this.byOwner.get(t.owner);
    set?.delete(name);
    if (set && set.size === 0) this.byOwner.delete(t.owner);
    if (t.status === 'ready') this.emit('service-gone', name);
  }

  private queueScan(job: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      const run = () => {
        this.scansRunning++;
        job().finally(() => {
          this.scansRunning = Math.max(0, this.scansRunning - 1);
          resolve();
          const next = this.scanQueue.shift();
          if (next) next();
        });
      };
      if (this.scansRunning < this.opts.maxParallelScans) run();
      else this.scanQueue.push(run);
    });
  }

  private current(t: Tracked): boolean {
    return this.services.get(t.name) === t;
  }

  private async scan(t: Tracked): Promise<void> {
    let items: SourceItem[];
    try {
      items = await this.scanItems(t.name);
    } catch (e) {
      if (!this.current(t)) return;
      t.status = 'failed';
      t.early.length = 0;
      this.log('error', `scan of ${t.name} failed, its items stay unknown until it registers again: ${(e as Error).message}`);
      return;
    }
    if (!this.current(t)) return;
    t.status = 'ready';
    this.emit('service', t.name, items);
    // D14: changes that arrived during the scan. The scan reply comes after them on the same
    // connection, so it already holds their values; only paths it did not list are added.
    const listed = new Set(items.map((i) => i.path));
    const cutoff = Date.now() - this.opts.earlySignalMaxAgeMs;
    const extra = t.early.filter((e) => e.at >= cutoff).flatMap((e) => e.items).filter((i) => !listed.has(i.path));
    t.early.length = 0;
    if (extra.length) this.emit('changes', t.name, extra);
  }

  /** GetItems on '/'; on UnknownMethod GetValue on '/'; where that fails too, introspection (D6–D8). */
  private async scanItems(name: string): Promise<SourceItem[]> {
    const timeout = this.opts.scanTimeoutMs;
    try {
      const reply = await this.callItem(name, '/', 'GetItems', timeout);
      if (reply.signature !== 'a{sa{sv}}') throw new DbusError('InvalidSignature', `GetItems answered '${reply.signature}'`);
      return itemsFromDict(reply.body[0] as Record<string, Record<string, TypedValue>>);
    } catch (e) {
      if (!(e instanceof DbusError) || !isMissing(e.errorName)) throw e;
    }
    try {
      const reply = await this.callItem(name, '/', 'GetValue', timeout);
      const entries = subTreeEntries(reply.body[0] as TypedValue);
      if (!entries) {
        this.log('warn', `${name}: GetValue on / is not a dict ('${unwrapVariant(reply.body[0] as TypedValue)?.signature}'); no items`);
        return [];
      }
      return entries.map(([rel, value]) => ({ path: joinPath('/', rel), value }));
    } catch (e) {
      if (!(e instanceof DbusError) || !isMissing(e.errorName)) throw e;
    }
    return this.introspectItems(name, '/');
  }

  private async introspectItems(name: string, path: string, depth = 0): Promise<SourceItem[]> {
    if (depth > 32) return [];
    const reply = await this.callItem(name, path, 'Introspect', this.opts.scanTimeoutMs, undefined, undefined,
      'org.freedesktop.DBus.Introspectable');
    const xml = String(reply.body[0] ?? '');
    // child nodes only: the top-level <node> may carry the object's own absolute path
    const children = [...xml.matchAll(/<node\s+name="([^"]+)"/g)].map((m) => m[1]).filter((n) => /^[A-Za-z0-9_]+$/.test(n));
    const out: SourceItem[] = [];
    if (children.length === 0 && xml.includes(`"${BUS_ITEM}"`) && path !== '/') {
      try {
        const v = await this.getValue(name, path);
        out.push({ path, value: unwrapVariant(v) });
      } catch (e) {
        this.log('debug', `${name} ${path}: ${(e as Error).message}`);
      }
    }
    for (const c of children) {
      out.push(...await this.introspectItems(name, (path === '/' ? '' : path) + '/' + c, depth + 1));
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------
  // Signals

  private onSignal(msg: Msg): void {
    if (msg.interface === 'org.freedesktop.DBus' && msg.member === 'NameOwnerChanged') {
      if (msg.sender !== 'org.freedesktop.DBus' || msg.signature !== 'sss') return;
      const [name, , newOwner] = msg.body as string[];
      if (!name.startsWith(PREFIX)) return;
      if (newOwner) void this.serviceAppeared(name, newOwner); // also an owner change (D4)
      else this.serviceGone(name);
      return;
    }
    if (msg.interface !== BUS_ITEM) return;
    const names = this.byOwner.get(msg.sender ?? '');
    if (!names) return; // not a service we know (D5, D13)
    let items: SourceItem[];
    if (msg.member === 'ItemsChanged') {
      if (msg.signature !== 'a{sa{sv}}') throw new Error(`signature '${msg.signature}'`);
      items = itemsFromDict(msg.body[0] as Record<string, Record<string, TypedValue>>);
    } else if (msg.member === 'PropertiesChanged') {
      if (msg.signature !== 'a{sv}') throw new Error(`signature '${msg.signature}'`);
      const props = msg.body[0] as Record<string, TypedValue>;
      if (!props.Value) return; // D11: only Value is used; without it nothing happens
      items = [{ path: msg.path as string, value: unwrapVariant(props.Value), text: textOf(props.Text) }];
    } else {
      return;
    }
    if (items.length === 0) return;
    for (const name of names) {
      const t = this.services.get(name);
      if (!t) continue;
      if (t.status === 'ready') this.emit('changes', name, items);
      else if (t.status === 'scanning') t.early.push({ at: Date.now(), items });
    }
  }
}

function isMissing(errorName: string): boolean {
  return errorName === 'org.freedesktop.DBus.Error.UnknownMethod' || errorName === 'org.freedesktop.DBus.Error.UnknownObject' ||
    errorName === 'org.freedesktop.DBus.Error.UnknownInterface';
}

/** GetItems / ItemsChanged: absolute path → {Value, Text, Min, Max}. */
function itemsFromDict(dict: Record<string, Record<string, TypedValue>>): SourceItem[] {
  const out: SourceItem[] = [];
  for (const path of Object.keys(dict)) {
    if (path[0] !== '/') continue;
    const e = dict[path];
    if (!e || typeof e !== 'object') continue;
    const item: SourceItem = { path };
    if (e.Value) item.value = unwrapVariant(e.Value);
    if (e.Min) item.min = unwrapVariant(e.Min);
    if (e.Max) item.max = unwrapVariant(e.Max);
    if (item.value) item.text = textOf(e.Text);
    if (item.value || item.min || item.max) out.push(item);
  }
  return out;
}

/** The `Text` of an entry, when it is a string (velib sends `s`). */
function textOf(v: TypedValue | undefined): string | undefined {
  const t = v ? unwrapVariant(v) : undefined;
  return t && t.signature === 's' ? (t.value as string) : undefined;
}
