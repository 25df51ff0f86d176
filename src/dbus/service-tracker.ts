// The D-Bus side of the engine: one connection to a bus, discovery of every
// `com.victronenergy.*` service (ListNames, NameOwnerChanged, GetNameOwner), their scans
// (service-scans.ts, scan.ts) and change signals (bus-item.ts), calls with timeouts and bounds
// (bus-calls.ts). It reports items and changes; it never decides protocol. Nothing it keeps
// grows with what a service sends: calls, queues and logs are all bounded.
import { EventEmitter } from 'events';
import * as dbus from 'dbus-next';
import './int64-range';
import { ItemSource, SetValueOutcome, SourceState } from '../bridge/item-source';
import { TypedValue } from '../bridge/typed-value';
import { BusAddress, resolveBusAddress } from './address';
import { BusCalls, CallOptions, DbusError } from './bus-calls';
import { BUS_ITEM, itemsOfSignal } from './bus-item';
import { brief, ScanOptions, ServiceScans } from './service-scans';
import { toVariant } from './variant-codec';

export { DbusError } from './bus-calls';

const { Message } = dbus;
type Msg = InstanceType<typeof Message>;

const PREFIX = 'com.victronenergy.';
const SIGNAL = 4; // dbus-next MessageType.SIGNAL

export interface TrackerOptions {
  /** system | session | unix:… | tcp:… | host:port */
  address?: string;
  /** timeout of a scan call (libdbus's default is about 25 s); doubled after a timeout, up to 4× */
  scanTimeoutMs?: number;
  /** timeout of GetValue / SetValue for requests */
  callTimeoutMs?: number;
  /** reconnect backoff: first and largest delay */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** retry of a failed scan: first and largest delay (doubling) */
  scanRetryMinMs?: number;
  scanRetryMaxMs?: number;
  /** scans running at once */
  maxParallelScans?: number;
  /** paths whose changes are kept while one service's scan is pending (newest value each) */
  maxPendingPathsPerService?: number;
  /** the same, summed over every service */
  maxPendingPaths?: number;
  /** calls one service may leave unanswered before it is not called until it answers (bus-calls.ts) */
  maxUnansweredPerService?: number;
  /** calls given up on, in all, before services that left calls unanswered are not called */
  maxAbandonedCalls?: number;
}

/** Distinct things logged once; forgotten in bulk past this many. */
const MAX_REMEMBERED = 1024;

export class DbusServiceTracker extends EventEmitter implements ItemSource {
  private bus: dbus.MessageBus | undefined;
  private calls: BusCalls | undefined;
  private _state: SourceState = 'disconnected';
  private readonly addr: BusAddress;
  private readonly opts: Required<Omit<TrackerOptions, 'address'>>;
  /** the names and their scans, one set per connection */
  private scans: ServiceScans | undefined;
  private readonly loggedOnce = new Set<string>();
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private generation = 0;
  private stopped = true;

  constructor(opts: TrackerOptions = {}) {
    super();
    this.addr = resolveBusAddress(opts.address);
    this.opts = {
      scanTimeoutMs: opts.scanTimeoutMs ?? 25000,
      callTimeoutMs: opts.callTimeoutMs ?? 10000,
      reconnectMinMs: opts.reconnectMinMs ?? 500,
      reconnectMaxMs: opts.reconnectMaxMs ?? 10000,
      scanRetryMinMs: opts.scanRetryMinMs ?? 1000,
      scanRetryMaxMs: opts.scanRetryMaxMs ?? 60000,
      maxParallelScans: opts.maxParallelScans ?? 16,
      maxPendingPathsPerService: opts.maxPendingPathsPerService ?? 20000,
      maxPendingPaths: opts.maxPendingPaths ?? 100000,
      maxUnansweredPerService: opts.maxUnansweredPerService ?? 16,
      maxAbandonedCalls: opts.maxAbandonedCalls ?? 64,
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
    return this.scans?.readyNames ?? [];
  }

  /** What the tracker holds now, for diagnostics and the tests that bound it. */
  get stats(): { names: number; owners: number; queued: number; scanning: number; waiting: number; pendingPaths: number;
    unansweredCalls: number; abandonedCalls: number; } {
    const calls = this.calls?.stats ?? { unanswered: 0, abandoned: 0 };
    const scans = this.scans?.stats ?? { names: 0, owners: 0, queued: 0, scanning: 0, waiting: 0, pendingPaths: 0 };
    return { ...scans, unansweredCalls: calls.unanswered, abandonedCalls: calls.abandoned };
  }

  private setState(s: SourceState, detail?: string): void {
    if (this._state === s) return;
    this._state = s;
    this.emit('state', s, detail);
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', text: string): void {
    this.emit('log', level, text);
  }

  /** Logs `text` the first time `key` is seen (bounded memory). */
  private logOnce(key: string, level: 'debug' | 'info' | 'warn' | 'error', text: string): void {
    if (this.loggedOnce.has(key)) return;
    if (this.loggedOnce.size >= MAX_REMEMBERED) this.loggedOnce.clear();
    this.loggedOnce.add(key);
    this.log(level, text);
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
    this.calls = new BusCalls(bus, { maxUnansweredPerPeer: this.opts.maxUnansweredPerService, maxAbandoned: this.opts.maxAbandonedCalls },
      (destination) => { if (!this.scans?.has(destination)) this.forgetOwner(destination, false); });
    const opts: ScanOptions = this.opts;
    this.scans = new ServiceScans({
      callItem: (service, path, member, o, iface) => this.callItem(service, path, member, o, undefined, undefined, iface),
      report: (event, name, items) => (event === 'service' ? this.emit(event, name, items) : this.emit(event, name)),
      changes: (name, items) => this.emit('changes', name, items),
      log: (level, text) => this.log(level, text),
    }, opts);
    const conn = (bus as unknown as { _connection: EventEmitter & { stream?: EventEmitter } })._connection;
    bus.on('error', (err: Error) => this.connectionLost(gen, `D-Bus error: ${err.message}`));
    conn.on('end', () => this.connectionLost(gen, 'the D-Bus connection ended'));
    conn.stream?.on('close', () => this.connectionLost(gen, 'the D-Bus connection closed'));
    bus.on('message', (msg: Msg) => {
      if (msg.type !== SIGNAL) return;
      try {
        this.onSignal(msg);
      } catch (e) {
        this.logOnce(`malformed\0${msg.sender}\0${msg.member}\0${msg.signature}`, 'warn',
          `ignored a malformed ${msg.member} signal from ${msg.sender}: ${brief((e as Error).message)} (told once per sender and shape)`);
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
        if (gen === this.generation && !this.scans?.has(name)) await this.scans?.appeared(name, owner);
      } catch (e) {
        this.log('debug', `${name} left before it could be scanned: ${(e as Error).message}`);
      }
    }));
    if (gen !== this.generation) return;
    // Every service found at start has had its first scan (answered or failed): the cache is complete.
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
    this.scans?.close();
    this.scans = undefined;
    this.calls?.close(err);
    this.calls = undefined;
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
  // Calls (with timeouts and bounds, bus-calls.ts)

  private call(msg: Msg, opts: CallOptions): Promise<Msg> {
    if (!this.calls) return Promise.reject(new DbusError('Disconnected', `not connected to ${this.addr.label}`));
    return this.calls.call(msg, opts);
  }

  private callBus(member: string, signature?: string, body?: unknown[]): Promise<Msg> {
    return this.call(new Message({
      destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus',
      member, signature, body,
    }), { timeoutMs: this.opts.callTimeoutMs });
  }

  /** A BusItem call on a service, counted against its current owner. */
  private callItem(service: string, path: string, member: string, opts: Omit<CallOptions, 'peer'>, signature?: string,
    body?: unknown[], iface = BUS_ITEM): Promise<Msg> {
    let msg: Msg;
    try {
      msg = new Message({ destination: service, path, interface: iface, member, signature, body });
    } catch (e) {
      return Promise.reject(new DbusError('InvalidArgs', `${member} on ${service} ${path}: ${(e as Error).message}`));
    }
    return this.call(msg, { ...opts, peer: this.scans?.ownerOf(service) });
  }

  async getValue(service: string, path: string): Promise<TypedValue> {
    const reply = await this.callItem(service, path, 'GetValue', { timeoutMs: this.opts.callTimeoutMs });
    if (reply.signature !== 'v') throw new DbusError('InvalidSignature', `GetValue on ${service} ${path} answered '${reply.signature}'`);
    return reply.body[0] as TypedValue;
  }

  async setValue(service: string, path: string, value: TypedValue): Promise<SetValueOutcome> {
    const reply = await this.callItem(service, path, 'SetValue', { timeoutMs: this.opts.callTimeoutMs }, 'v', [toVariant(value)]);
    const code = reply.body[0];
    return { code: typeof code === 'number' ? code : 0, confirmation: 'reply' };
  }

  // ---------------------------------------------------------------------------------------
  // Signals

  private onSignal(msg: Msg): void {
    if (msg.interface === 'org.freedesktop.DBus' && msg.member === 'NameOwnerChanged') {
      if (msg.sender !== 'org.freedesktop.DBus' || msg.signature !== 'sss') return;
      const [name, , newOwner] = msg.body as string[];
      if (!name.startsWith(PREFIX)) return;
      if (newOwner) void this.scans?.appeared(name, newOwner); // also an owner change (D4)
      else {
        this.scans?.gone(name);
        this.forgetOwner(name, true);
      }
      return;
    }
    if (msg.interface !== BUS_ITEM || !this.scans) return;
    const owner = msg.sender ?? '';
    if (!this.scans.owns(owner)) return; // not a service we know (D5, D13)
    const items = itemsOfSignal(msg);
    if (items && items.length) this.scans.changed(owner, items);
  }

  /**
   * dbus-next remembers the owner of every name it saw in a NameOwnerChanged or a reply, and
   * never forgets one: a service churning through new names would grow it without end. A
   * signal is recorded right after our handler (`later`), a reply before we hear of it.
   */
  private forgetOwner(name: string, later: boolean): void {
    const owners = (this.bus as unknown as { _nameOwners?: Record<string, string> } | undefined)?._nameOwners;
    if (!owners || name.startsWith(':') || name === 'org.freedesktop.DBus') return;
    if (later) queueMicrotask(() => { if (!this.scans?.has(name)) delete owners[name]; });
    else delete owners[name];
  }
}
