// Test helpers for the simulator tests: an independent dbus-next client connection (low-level
// API), dbus-send, and fixture paths.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as dbus from 'dbus-next';
import type { Message, MessageBus } from 'dbus-next';

export const BUSITEM = 'com.victronenergy.BusItem';

/** The repository root (where package.json is), from src or from dist. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found');
    dir = up;
  }
  return dir;
}

export function fixture(...parts: string[]): string {
  return path.join(repoRoot(), 'test', 'fixtures', ...parts);
}

export const ESS_RECORDINGS = ['vebus', 'solarcharger', 'battery', 'grid', 'pvinverter'].map((n) => fixture('recordings', `${n}.csv`));
export const TANK_RECORDINGS = ['tank_fuel', 'tank_fwater'].map((n) => fixture('recordings', `${n}.csv`));

/** Runs dbus-send (asynchronously: the simulator in this process must keep answering). */
export function dbusSend(address: string, args: string[], timeoutMs = 10000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('dbus-send', [`--bus=${address}`, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class CallError extends Error {
  constructor(readonly errorName: string, text: string) {
    super(`${errorName}: ${text}`);
  }
}

export class TimeoutError extends Error {}

/** A plain client connection, as a bridge would have one. Records every signal it receives. */
export class Client {
  readonly signals: Message[] = [];
  private waiters: Array<() => void> = [];
  private closed = false;

  private constructor(readonly bus: MessageBus) {
    bus.on('message', (msg: Message) => {
      if (msg.type !== 4) return;
      this.signals.push(msg);
      const w = this.waiters;
      this.waiters = [];
      w.forEach((f) => f());
    });
    bus.on('error', () => undefined);
  }

  static async connect(address: string): Promise<Client> {
    const tcp = address.startsWith('tcp:');
    const bus = dbus.sessionBus(tcp ? { busAddress: address, authMethods: ['ANONYMOUS'] } : { busAddress: address });
    await new Promise<void>((resolve, reject) => {
      bus.once('connect', () => resolve());
      bus.once('error', reject);
    });
    return new Client(bus);
  }

  get uniqueName(): string {
    return (this.bus as unknown as { name: string }).name;
  }

  /** Calls a method; rejects with CallError on an error reply, TimeoutError after timeoutMs. */
  call(dest: string, objPath: string, member: string, signature = '', body: unknown[] = [],
    iface: string | undefined = BUSITEM, timeoutMs = 5000): Promise<Message> {
    const msg = new dbus.Message({ destination: dest, path: objPath, interface: iface, member, signature, body });
    return new Promise<Message>((resolve, reject) => {
      const t = setTimeout(() => reject(new TimeoutError(`${member} on ${objPath}: no reply in ${timeoutMs} ms`)), timeoutMs);
      this.bus.call(msg).then((r) => { clearTimeout(t); resolve(r as Message); }, (e: { type?: string; text?: string; message: string }) => {
        clearTimeout(t);
        reject(e.type ? new CallError(e.type, e.text ?? '') : e);
      });
    });
  }

  /** GetValue → the Variant. */
  async getValue(dest: string, objPath: string): Promise<dbus.Variant> {
    return (await this.call(dest, objPath, 'GetValue')).body[0] as dbus.Variant;
  }

  async setValue(dest: string, objPath: string, v: dbus.Variant): Promise<number> {
    return (await this.call(dest, objPath, 'SetValue', 'v', [v])).body[0] as number;
  }

  async addMatch(rule: string): Promise<void> {
    await this.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'AddMatch', 's', [rule], 'org.freedesktop.DBus');
  }

  /** Subscribes to all BusItem signals and NameOwnerChanged. */
  async watch(): Promise<void> {
    await this.addMatch(`type='signal',interface='${BUSITEM}'`);
    await this.addMatch("type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged'");
  }

  /** Resolves with the first signal (received so far or later) matching pred. */
  waitFor(pred: (m: Message) => boolean, timeoutMs = 3000): Promise<Message> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new TimeoutError('timed out waiting for a signal')), timeoutMs);
      const check = () => {
        const m = this.signals.find(pred);
        if (m) { clearTimeout(timer); resolve(m); } else this.waiters.push(check);
      };
      check();
    });
  }

  /** All signals matching pred received within ms. */
  async collect(pred: (m: Message) => boolean, ms: number): Promise<Message[]> {
    await delay(ms);
    return this.signals.filter(pred);
  }

  clear(): void {
    this.signals.length = 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const sock = (this.bus as unknown as { _connection: { stream: import('net').Socket } })._connection.stream;
    const done = new Promise<void>((r) => sock.once('close', () => r()));
    this.bus.disconnect();
    const t = setTimeout(() => sock.destroy(), 1000);
    await done;
    clearTimeout(t);
  }
}

export function isItemsChanged(m: Message): boolean {
  return m.member === 'ItemsChanged' && m.interface === BUSITEM && m.path === '/';
}

export function isPropertiesChanged(m: Message, objPath?: string): boolean {
  return m.member === 'PropertiesChanged' && m.interface === BUSITEM && (objPath === undefined || m.path === objPath);
}

/** NameOwnerChanged(name, old, new) for `name`. */
export function isOwnerChange(name: string, pred: (oldOwner: string, newOwner: string) => boolean) {
  return (m: Message): boolean => m.member === 'NameOwnerChanged' && m.body[0] === name && pred(m.body[1] as string, m.body[2] as string);
}
