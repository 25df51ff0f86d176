// One simulated Venus OS D-Bus service: its own bus connection (own unique name), its
// well-known name, and every path exported with com.victronenergy.BusItem the way velib_python's
// VeDbusService / VeDbusItemExport / VeDbusTreeExport / VeDbusRootExport do it. Uses dbus-next's
// low-level API only (one method handler per connection, no Interface object per path).
import { EventEmitter } from 'events';
import type { Socket } from 'net';
import * as dbus from 'dbus-next';
import type { Message, MessageBus } from 'dbus-next';
import '../dbus/int64-range';
import {
  Variant, TextFormat, assertSingleType, coerceForSet, formatText, fromJs, inferTextFormat, inferVariant,
  invalid, isEmptyArray, isVariant, normalizeVariant, valuesEqual, CoercionError,
} from './values';
import { DEFAULT_OPTIONS, PathDef, ScriptedChange, ServiceDef, ServiceOptions, isPathDef } from './types';
import { encodeError, encodeMethodReturn, encodeSignal } from './wire';

export const BUSITEM = 'com.victronenergy.BusItem';
const INTROSPECTABLE = 'org.freedesktop.DBus.Introspectable';
const ERR_UNKNOWN_OBJECT = 'org.freedesktop.DBus.Error.UnknownObject';
const ERR_UNKNOWN_METHOD = 'org.freedesktop.DBus.Error.UnknownMethod';
const ERR_INVALID_ARGS = 'org.freedesktop.DBus.Error.InvalidArgs';

const METHOD_CALL = 1;
const SIGNAL = 4;

const BUSITEM_MEMBERS = new Set(['GetValue', 'GetText', 'SetValue', 'GetItems', 'GetMin', 'GetMax', 'GetDefault', 'GetDescription']);

interface Item {
  path: string;
  value: Variant;
  text: string;
  /** Fixed D-Bus type (SetValue coerces to it); undefined = any type. */
  type?: string;
  format?: TextFormat;
  min?: Variant;
  max?: Variant;
  readOnly: boolean;
  reject: boolean;
}

interface TreeNode {
  children: Map<string, TreeNode>;
  item?: Item;
}

/** What a client wrote with SetValue, and what the service answered. */
export interface WriteRecord {
  path: string;
  value: Variant;
  /** 0 accepted, 1 refused (type/read-only), 2 refused by the service. */
  result: number;
  sender: string;
  at: number;
}

export interface SetValueOptions {
  /** Send the change signals (default true). */
  signal?: boolean;
  /** GetText for the new value (default: formatted like the item's other texts). */
  text?: string;
}

export interface ReplayOptions {
  /** Time factor: 2 = twice as fast. Default 1. */
  speed?: number;
  /** Start again after the last change (default true). */
  loop?: boolean;
}

const PATH_RE = /^\/$|^(\/[A-Za-z0-9_]+)+$/;

export function isValidObjectPath(p: string): boolean {
  return PATH_RE.test(p);
}

/** Opens one bus connection: 'system', 'session' or a D-Bus address (unix:…, tcp:…). */
export function openBus(address: string): MessageBus {
  if (address === 'system') return dbus.systemBus();
  if (address === 'session') return dbus.sessionBus();
  const tcp = address.split(';').some((a) => a.trim().startsWith('tcp:'));
  return dbus.sessionBus(tcp ? { busAddress: address, authMethods: ['ANONYMOUS'] } : { busAddress: address });
}

/** The socket under a dbus-next MessageBus (not in its typings). */
export function busSocket(bus: MessageBus): Socket {
  return (bus as unknown as { _connection: { stream: Socket } })._connection.stream;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const INTROSPECT_HEADER = '<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"\n' +
  '"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">\n';
const XML_INTROSPECTABLE = '  <interface name="org.freedesktop.DBus.Introspectable">\n' +
  '    <method name="Introspect">\n      <arg direction="out" type="s" />\n    </method>\n  </interface>\n';

function xmlBusItem(kind: 'leaf' | 'tree' | 'root', getItems: boolean, minMax: boolean): string {
  const m = (name: string, args: string) => `    <method name="${name}">\n${args}    </method>\n`;
  const out = (t: string) => `      <arg direction="out" type="${t}" />\n`;
  let x = `  <interface name="${BUSITEM}">\n`;
  x += m('GetValue', out('v'));
  x += m('GetText', out('v'));
  if (kind === 'leaf') {
    x += m('SetValue', `      <arg direction="in" type="v" name="newvalue" />\n${out('i')}`);
    if (minMax) x += m('GetMin', out('v')) + m('GetMax', out('v'));
    x += '    <signal name="PropertiesChanged">\n      <arg type="a{sv}" name="changes" />\n    </signal>\n';
  }
  if (kind === 'root') {
    if (getItems) x += m('GetItems', out('a{sa{sv}}'));
    x += '    <signal name="ItemsChanged">\n      <arg type="a{sa{sv}}" name="changes" />\n    </signal>\n';
  }
  return `${x}  </interface>\n`;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}

/**
 * A simulated service. Create it with GxSimulator.addService (or `new SimService(def)` and
 * `connect(address)`). Events: 'write' (WriteRecord) on every SetValue call, 'disconnected'
 * ({ expected: boolean }) when its connection closes, 'replayLoop', 'replayEnd'.
 */
export class SimService extends EventEmitter {
  readonly name: string;
  /** Unique connection name (':1.42') once connected. */
  uniqueName = '';
  options: ServiceOptions;
  /** Every SetValue received, in order. */
  readonly writes: WriteRecord[] = [];
  /** Number of BusItem/Introspect method calls received, by member name. */
  readonly calls: Record<string, number> = {};
  /** Set when the connection reported an error. */
  lastError?: Error;

  private bus?: MessageBus;
  private socket?: Socket;
  private fastWire = true;
  private state: 'new' | 'connecting' | 'connected' | 'closing' | 'closed' = 'new';
  private closedPromise?: Promise<void>;
  private expectClose = false;
  private readonly items = new Map<string, Item>();
  private readonly nodes = new Map<string, TreeNode>();
  private readonly pending = new Map<string, Item>();
  private flushTimer?: NodeJS.Immediate;
  private script: ScriptedChange[];
  private loopAfter?: number;
  private replayTimer?: NodeJS.Timeout;
  private readonly source?: string;

  constructor(def: ServiceDef, options: Partial<ServiceOptions> = {}) {
    super();
    if (!/^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_-][A-Za-z0-9_-]*)+$/.test(def.name) || def.name.length > 255) {
      throw new Error(`'${def.name}' is not a valid D-Bus name`);
    }
    this.name = def.name;
    this.source = def.source;
    this.options = { ...DEFAULT_OPTIONS, ...(def.options ?? {}), ...options };
    this.nodes.set('/', { children: new Map() });
    for (const [p, d] of Object.entries(def.paths)) this.createItem(p, d);
    this.script = [...(def.changes ?? [])].sort((a, b) => a.at - b.at);
    this.loopAfter = def.loopAfter;
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  /**
   * Connects, sends Hello and owns the well-known name (waits if another connection still holds
   * it). `marshal`: 'fast' (default) encodes replies and signals with wire.ts; 'dbus-next' uses
   * bus.send(Message…) and dbus-next's marshaller (slower, for comparison).
   */
  async connect(address: string, timeoutMs = 10000, marshal: 'fast' | 'dbus-next' = 'fast'): Promise<void> {
    if (this.state !== 'new') throw new Error(`${this.name}: connect() can be called once`);
    this.state = 'connecting';
    this.fastWire = marshal === 'fast';
    const bus = openBus(address);
    this.bus = bus;
    const socket = busSocket(bus);
    this.socket = socket;
    this.closedPromise = new Promise<void>((resolve) => {
      socket.once('close', () => { this.onClosed(); resolve(); });
    });
    bus.on('error', (err: Error) => { this.lastError = err; });
    bus.addMethodHandler(this.handle);
    let nameAcquired!: () => void;
    const acquired = new Promise<void>((resolve) => { nameAcquired = resolve; });
    bus.on('message', (msg: Message) => {
      if (msg.type === SIGNAL && msg.member === 'NameAcquired' && msg.body[0] === this.name) nameAcquired();
    });
    try {
      await withTimeout(new Promise<void>((resolve, reject) => {
        bus.once('connect', () => resolve());
        bus.once('error', (e: Error) => reject(e));
        socket.once('close', () => reject(new Error('connection closed')));
      }), timeoutMs, `${this.name}: connecting to ${address}`);
      this.uniqueName = (bus as unknown as { name: string }).name;
      const reply = await withTimeout(bus.requestName(this.name, 0), timeoutMs, `${this.name}: RequestName`);
      if (reply === 2) {
        await withTimeout(acquired, timeoutMs, `${this.name}: name is owned by another connection`);
      } else if (reply !== 1 && reply !== 4) {
        throw new Error(`${this.name}: RequestName answered ${reply}`);
      }
    } catch (e) {
      this.expectClose = true;
      socket.destroy();
      await this.closedPromise;
      throw e;
    }
    this.state = 'connected';
  }

  /** Clean removal: releases the name, then closes the connection. */
  async disconnect(): Promise<void> {
    if (!this.bus || this.state === 'closed') return;
    this.beginClose();
    if (this.socket && !this.socket.destroyed) {
      try { await withTimeout(this.bus.releaseName(this.name), 2000, 'ReleaseName'); } catch { /* bus gone */ }
      this.bus.disconnect();
      const t = setTimeout(() => this.socket?.destroy(), 2000);
      await this.closedPromise;
      clearTimeout(t);
    }
    await this.closedPromise;
  }

  /** Crash: drops the socket without releasing the name or saying goodbye. */
  async crash(): Promise<void> {
    if (!this.bus || this.state === 'closed') return;
    this.beginClose();
    this.socket?.destroy();
    await this.closedPromise;
  }

  private beginClose(): void {
    this.expectClose = true;
    this.state = 'closing';
    this.stopReplay();
    this.cancelSignals();
  }

  private onClosed(): void {
    const expected = this.expectClose;
    this.state = 'closed';
    this.haltReplay(); // an unexpected close keeps `replayOptions`, so a re-export can replay again
    this.cancelSignals();
    this.emit('disconnected', { expected });
  }

  // ---------------------------------------------------------------- items

  /** Paths currently exported, in insertion order. */
  paths(): string[] {
    return [...this.items.keys()];
  }

  has(path: string): boolean {
    return this.items.has(path);
  }

  getValue(path: string): Variant | undefined {
    return this.items.get(path)?.value;
  }

  getText(path: string): string | undefined {
    return this.items.get(path)?.text;
  }

  /** The item's fixed type, if any. */
  getType(path: string): string | undefined {
    return this.items.get(path)?.type;
  }

  /**
   * Changes a value as the service itself would (velib local_set_value). `value` is a Variant
   * (stored as given) or a JS value (converted to the item's type when possible); null =
   * invalid. A path that does not exist is added. Returns true if the value changed. An equal
   * value is not stored or signalled. With `signal: false` the change is silent.
   */
  setValue(path: string, value: unknown, opts: SetValueOptions = {}): boolean {
    const signal = opts.signal ?? true;
    const item = this.items.get(path);
    if (!item) {
      const created = this.createItem(path, { value, text: opts.text });
      if (signal) this.queue(created);
      return true;
    }
    return this.assign(item, this.toItemVariant(item, value), opts.text, signal);
  }

  /** Adds a path with full metadata (type, min/max, readOnly…). Signals it unless signal: false. */
  addPath(path: string, def: PathDef | unknown, opts: { signal?: boolean } = {}): void {
    if (this.items.has(path)) throw new Error(`${this.name}: ${path} exists`);
    const item = this.createItem(path, def);
    if (opts.signal ?? true) this.queue(item);
  }

  /** Removes a path (velib's `del service[path]`: no signal). */
  removePath(path: string): boolean {
    const item = this.items.get(path);
    if (!item) return false;
    this.items.delete(path);
    this.pending.delete(path);
    const node = this.nodes.get(path);
    if (node) node.item = undefined;
    // prune empty branches
    let p = path;
    while (p !== '/') {
      const n = this.nodes.get(p);
      if (!n || n.item || n.children.size > 0) break;
      this.nodes.delete(p);
      const parent = p.slice(0, p.lastIndexOf('/')) || '/';
      this.nodes.get(parent)?.children.delete(p.slice(p.lastIndexOf('/') + 1));
      p = parent;
    }
    return true;
  }

  /** Sets /DeviceInstance (keeps its D-Bus type; 'i' if the path is new). */
  setDeviceInstance(n: number, opts: SetValueOptions = {}): boolean {
    if (!this.items.has('/DeviceInstance')) return this.setValue('/DeviceInstance', new Variant('i', n), opts);
    return this.setValue('/DeviceInstance', n, opts);
  }

  /** Changes fault/signal options at run time (e.g. stop hanging). */
  setOptions(opts: Partial<ServiceOptions>): void {
    this.options = { ...this.options, ...opts };
  }

  /** The service as it is now, as a definition (to add it again later, e.g. after a bus restart). */
  snapshot(): ServiceDef {
    const paths: Record<string, PathDef> = {};
    for (const it of this.items.values()) {
      paths[it.path] = {
        type: it.type, value: it.value, text: it.text, min: it.min, max: it.max,
        readOnly: it.readOnly || undefined, reject: it.reject || undefined,
      };
    }
    return { name: this.name, paths, options: { ...this.options }, changes: [...this.script], loopAfter: this.loopAfter, source: this.source };
  }

  private createItem(path: string, raw: unknown): Item {
    if (!isValidObjectPath(path) || path === '/') throw new Error(`${this.name}: '${path}' is not a valid item path`);
    const def: PathDef = isPathDef(raw) ? raw : { value: raw };
    const type = def.type;
    if (type !== undefined) assertSingleType(type);
    const where = `${this.name} ${path}`;
    const conv = (v: unknown): Variant => {
      if (v === null || v === undefined) return invalid();
      if (isVariant(v) && isEmptyArray(v)) return normalizeVariant(v);
      try {
        return type ? new Variant(type, fromJs(v, type, true)) : inferVariant(v);
      } catch (e) {
        throw new Error(`${where}: ${(e as Error).message}`);
      }
    };
    const value = conv(def.value);
    let format: TextFormat | undefined;
    if (def.decimals !== undefined || def.unit !== undefined) format = { kind: 'fixed', decimals: def.decimals, unit: def.unit ?? '' };
    else if (def.text !== undefined) format = inferTextFormat(value, def.text);
    const item: Item = {
      path,
      value,
      text: def.text ?? formatText(value, format),
      // without a declared type the item keeps its first value's type; invalid → any type
      type: type ?? (isEmptyArray(value) ? undefined : value.signature),
      format,
      min: def.min === undefined ? undefined : conv(def.min),
      max: def.max === undefined ? undefined : conv(def.max),
      readOnly: !!def.readOnly,
      reject: !!def.reject,
    };
    // tree nodes
    const parts = path.split('/').slice(1);
    let node = this.nodes.get('/')!;
    let cur = '';
    for (const part of parts) {
      cur += `/${part}`;
      let child = node.children.get(part);
      if (!child) {
        child = { children: new Map() };
        node.children.set(part, child);
        this.nodes.set(cur, child);
      }
      node = child;
    }
    node.item = item;
    this.items.set(path, item);
    return item;
  }

  private toItemVariant(item: Item, value: unknown): Variant {
    if (value === null || value === undefined) return invalid();
    if (isVariant(value)) return normalizeVariant(value);
    if (item.type) {
      try {
        return new Variant(item.type, fromJs(value, item.type));
      } catch (e) {
        if (!(e instanceof CoercionError)) throw e;
      }
    }
    return inferVariant(value);
  }

  private assign(item: Item, v: Variant, text: string | undefined, signal: boolean): boolean {
    if (text !== undefined) {
      const f = inferTextFormat(v, text);
      if (f) item.format = f;
    }
    if (valuesEqual(item.value, v)) return false;
    item.value = v;
    item.text = text ?? formatText(v, item.format);
    if (item.type !== undefined && !isEmptyArray(v) && v.signature !== item.type) item.type = v.signature;
    if (signal) this.queue(item);
    return true;
  }

  // ---------------------------------------------------------------- signals

  private queue(item: Item): void {
    if (this.options.signals === 'none' || this.state === 'closing' || this.state === 'closed') return;
    this.pending.set(item.path, item);
    if (!this.flushTimer) this.flushTimer = setImmediate(() => { this.flushTimer = undefined; this.flush(); });
  }

  private cancelSignals(): void {
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    this.pending.clear();
  }

  /**
   * Sends the queued change signals now: a PropertiesChanged per path and/or one ItemsChanged
   * with all of them. Changes made in one synchronous run are flushed together automatically.
   */
  flush(): void {
    if (this.flushTimer) { clearImmediate(this.flushTimer); this.flushTimer = undefined; }
    if (this.pending.size === 0) return;
    const items = [...this.pending.values()];
    this.pending.clear();
    if (!this.bus || this.state !== 'connected') return;
    const mode = this.options.signals;
    try {
      if (mode === 'both' || mode === 'properties') {
        for (const it of items) {
          this.signal(it.path, 'PropertiesChanged', 'a{sv}', [{ Value: it.value, Text: new Variant('s', it.text) }]);
        }
      }
      if (mode === 'both' || mode === 'items') {
        const changes: Record<string, Record<string, Variant>> = {};
        for (const it of items) changes[it.path] = { Value: it.value, Text: new Variant('s', it.text) };
        this.signal('/', 'ItemsChanged', 'a{sa{sv}}', [changes]);
      }
    } catch (e) {
      this.lastError = e as Error;
    }
  }

  // ---------------------------------------------------------------- D-Bus methods

  private write(buf: Buffer): void {
    const s = this.socket;
    if (!s || !s.writable) throw new Error('Cannot send message, stream is closed');
    s.write(buf);
  }

  private signal(path: string, member: string, sig: string, body: unknown[]): void {
    const bus = this.bus!;
    if (this.fastWire) this.write(encodeSignal(bus.newSerial(), path, BUSITEM, member, sig, body));
    else bus.send(dbus.Message.newSignal(path, BUSITEM, member, sig, body));
  }

  private reply(msg: Message, sig: string, body: unknown[]): void {
    const bus = this.bus!;
    if (this.fastWire) this.write(encodeMethodReturn(bus.newSerial(), msg.serial!, msg.sender, sig, body));
    else bus.send(dbus.Message.newMethodReturn(msg, sig, body));
  }

  private error(msg: Message, name: string, text: string): void {
    const bus = this.bus!;
    if (this.fastWire) this.write(encodeError(bus.newSerial(), msg.serial!, msg.sender, name, text));
    else bus.send(dbus.Message.newError(msg as unknown as string, name, text));
  }

  private readonly handle = (msg: Message): boolean => {
    if (msg.type !== METHOD_CALL) return false;
    const { member, path } = msg;
    const iface = msg.interface as string | undefined;
    if (member === 'Introspect' && (!iface || iface === INTROSPECTABLE)) {
      this.count(member);
      this.reply(msg, 's', [this.introspect(path)]);
      return true;
    }
    if (iface ? iface !== BUSITEM : !BUSITEM_MEMBERS.has(member)) return false;
    this.count(member);
    if (this.state !== 'connected' && this.state !== 'connecting') return true;
    const node = this.nodes.get(path);
    if (!node) {
      this.error(msg, ERR_UNKNOWN_OBJECT, `No such object path '${path}'`);
      return true;
    }
    const item = node.item;
    const unknownMethod = () => this.error(msg, ERR_UNKNOWN_METHOD,
      `Method "${member}" with signature "${msg.signature}" on interface "${iface ?? BUSITEM}" doesn't exist`);
    switch (member) {
      case 'GetValue':
        if (item) this.reply(msg, 'v', [item.value]);
        else if (path === '/' && this.options.hang) { /* never answer */ }
        else if (!this.options.rootGetValue) unknownMethod();
        else this.reply(msg, 'v', [new Variant('a{sv}', this.subtree(path, false))]);
        return true;
      case 'GetText':
        if (item) this.reply(msg, 'v', [new Variant('s', item.text)]);
        else if (!this.options.rootGetValue) unknownMethod();
        else this.reply(msg, 'v', [new Variant('a{ss}', this.subtree(path, true))]);
        return true;
      case 'GetItems':
        if (path !== '/' || !this.options.getItems) unknownMethod();
        else if (this.options.hang) { /* never answer */ }
        else this.reply(msg, 'a{sa{sv}}', [this.allItems()]);
        return true;
      case 'SetValue': {
        if (!item) { unknownMethod(); return true; }
        if (msg.signature !== 'v' || !isVariant(msg.body[0])) {
          this.error(msg, ERR_INVALID_ARGS, `SetValue takes one variant, got '${msg.signature}'`);
          return true;
        }
        const incoming = msg.body[0] as Variant;
        const result = this.clientSetValue(item, incoming);
        this.reply(msg, 'i', [result]);
        const rec: WriteRecord = { path, value: incoming, result, sender: msg.sender, at: Date.now() };
        this.writes.push(rec);
        this.emit('write', rec);
        return true;
      }
      case 'GetMin':
      case 'GetMax': {
        const v = member === 'GetMin' ? item?.min : item?.max;
        if (v) this.reply(msg, 'v', [v]);
        else unknownMethod();
        return true;
      }
      default:
        unknownMethod();
        return true;
    }
  };

  private count(member: string): void {
    this.calls[member] = (this.calls[member] ?? 0) + 1;
  }

  /** velib VeDbusItemExport.SetValue. Signals go out before the reply, as with dbus-python. */
  private clientSetValue(item: Item, incoming: Variant): number {
    if (item.readOnly) return 1;
    const v = coerceForSet(incoming, item.type);
    if (!v) return 1;
    if (valuesEqual(item.value, v)) return 0;
    if (item.reject) return 2;
    item.value = v;
    item.text = formatText(v, item.format);
    this.queue(item);
    this.flush();
    return 0;
  }

  private subtree(path: string, text: boolean): Record<string, Variant | string> {
    const prefix = path === '/' ? '/' : `${path}/`;
    const out: Record<string, Variant | string> = {};
    for (const [p, it] of this.items) {
      if (p.startsWith(prefix)) out[p.slice(prefix.length)] = text ? it.text : it.value;
    }
    return out;
  }

  private allItems(): Record<string, Record<string, Variant>> {
    const out: Record<string, Record<string, Variant>> = {};
    for (const [p, it] of this.items) {
      const e: Record<string, Variant> = { Value: it.value, Text: new Variant('s', it.text) };
      if (it.min) e.Min = it.min;
      if (it.max) e.Max = it.max;
      out[p] = e;
    }
    return out;
  }

  private introspect(path: string): string {
    let x = `${INTROSPECT_HEADER}<node name="${xmlEscape(path)}">\n${XML_INTROSPECTABLE}`;
    const node = this.nodes.get(path);
    if (node) {
      if (node.item) x += xmlBusItem('leaf', false, !!(node.item.min || node.item.max));
      else if (path === '/') {
        if (this.options.rootGetValue || this.options.getItems) x += xmlBusItem('root', this.options.getItems, false);
      } else if (this.options.rootGetValue) x += xmlBusItem('tree', false, false);
      for (const child of node.children.keys()) x += `  <node name="${xmlEscape(child)}" />\n`;
    }
    return `${x}</node>\n`;
  }

  // ---------------------------------------------------------------- replay

  /** True if the definition had scripted changes (a recording's change section). */
  get hasScript(): boolean {
    return this.script.length > 0;
  }

  get replaying(): boolean {
    return this.replayTimer !== undefined;
  }

  /** How the replay was started, until stopReplay() (kept when the connection is lost). */
  replayOptions: ReplayOptions | undefined = undefined;

  /**
   * Replays the scripted changes in time (`at` seconds / speed), each instant's changes in one
   * ItemsChanged; loops after `loopAfter` (default last change + 1 s) unless loop is false.
   * Returns false if there is nothing to replay.
   */
  startReplay(opts: ReplayOptions = {}): boolean {
    this.stopReplay();
    if (this.script.length === 0 || !this.connected) return false;
    this.replayOptions = { ...opts };
    const speed = opts.speed ?? 1;
    if (!(speed > 0)) throw new Error('speed must be > 0');
    const loop = opts.loop ?? true;
    const last = this.script[this.script.length - 1].at;
    const period = Math.max(this.loopAfter ?? last + 1, last, 0.001);
    let idx = 0;
    let base = performance.now();
    const step = () => {
      this.replayTimer = undefined;
      if (!this.connected) return;
      for (;;) {
        const elapsed = ((performance.now() - base) * speed) / 1000;
        let batchAt: number | undefined;
        const touched = new Set<string>();
        while (idx < this.script.length && this.script[idx].at <= elapsed) {
          const c = this.script[idx];
          if ((batchAt !== undefined && c.at !== batchAt) || touched.has(c.path)) {
            this.flush();
            touched.clear();
          }
          batchAt = c.at;
          touched.add(c.path);
          try {
            this.setValue(c.path, c.value, { text: c.text });
          } catch (e) {
            this.lastError = e as Error;
          }
          idx++;
        }
        this.flush();
        if (idx < this.script.length) break;
        if (!loop) { this.emit('replayEnd'); return; }
        if (elapsed < period) break;
        idx = 0;
        base += (period * 1000) / speed;
        this.emit('replayLoop');
      }
      const nextAt = idx < this.script.length ? this.script[idx].at : period;
      const delay = Math.max(0, base + (nextAt * 1000) / speed - performance.now());
      this.replayTimer = setTimeout(step, delay);
    };
    this.replayTimer = setTimeout(step, 0);
    return true;
  }

  stopReplay(): void {
    this.haltReplay();
    this.replayOptions = undefined;
  }

  private haltReplay(): void {
    if (this.replayTimer) clearTimeout(this.replayTimer);
    this.replayTimer = undefined;
  }
}
