// A hand-driven D-Bus peer for the odd cases the simulator does not produce on its own:
// signals of any shape (PropertiesChanged without Value, ItemsChanged with only Min/Max),
// slow or failing scan replies, answers of the wrong type, floods, a service that never
// answers, and several connections queueing for one name (owner changes).
import * as dbus from 'dbus-next';

const { Message, Variant } = dbus;
type Msg = InstanceType<typeof Message>;

export type ItemDict = Record<string, Record<string, InstanceType<typeof Variant>>>;

/** RequestName flags (D-Bus spec) */
export const ALLOW_REPLACEMENT = 1;
export const REPLACE_EXISTING = 2;
export const DO_NOT_QUEUE = 4;

export class RawService {
  bus!: dbus.MessageBus;
  /** reply to GetItems: a function so a test can delay, fail or change it */
  onGetItems: (msg: Msg) => void = (msg) => this.reply(msg, 'a{sa{sv}}', [this.items]);
  /** GetValue answers for paths that are no items (sub-trees: a{sv} of relative paths) */
  extraValues: Record<string, InstanceType<typeof Variant>> = {};
  /** reply to GetValue (default: extraValues, else the item's Value, else UnknownObject) */
  onGetValue: (msg: Msg) => void = (msg) => {
    const extra = this.extraValues[msg.path as string];
    const it = this.items[msg.path as string];
    if (extra) this.reply(msg, 'v', [extra]);
    else if (it) this.reply(msg, 'v', [it.Value]);
    else this.error(msg, 'org.freedesktop.DBus.Error.UnknownObject', 'no such path');
  };
  /** false: never answer any call (a hung service) */
  answers = true;
  items: ItemDict = {};
  calls: Msg[] = [];
  /** values received by SetValue, in order */
  writes: Array<{ path: string; value: unknown }> = [];
  private closed = false;

  constructor(readonly name: string) {}

  /** Connects; unless `own` is false, asks for the name (queueing behind its owner by default). */
  async connect(address: string, opts: { own?: boolean; flags?: number } = {}): Promise<void> {
    this.bus = dbus.sessionBus({ busAddress: address });
    this.bus.on('error', () => undefined);
    this.bus.addMethodHandler((msg: Msg) => {
      if (msg.interface === 'org.freedesktop.DBus.Peer' || msg.interface === 'org.freedesktop.DBus.Properties') return false;
      this.calls.push(msg);
      if (!this.answers) return true;
      if (msg.member === 'GetItems') {
        this.onGetItems(msg);
        return true;
      }
      if (msg.member === 'GetValue') {
        this.onGetValue(msg);
        return true;
      }
      if (msg.member === 'SetValue') {
        const v = msg.body[0] as InstanceType<typeof Variant>;
        this.writes.push({ path: msg.path as string, value: v.value });
        this.reply(msg, 'i', [0]);
        return true;
      }
      return false;
    });
    if (opts.own === false) {
      await new Promise<void>((resolve) => this.bus.once('connect', () => resolve()));
      return;
    }
    await this.requestName(opts.flags ?? 0);
  }

  /** RequestName; resolves with the reply code (1 owner, 2 queued, 3 exists, 4 already owner). */
  requestName(flags = 0): Promise<number> {
    return this.bus.requestName(this.name, flags) as Promise<number>;
  }

  releaseName(): Promise<number> {
    return this.bus.releaseName(this.name) as Promise<number>;
  }

  /** this connection's unique name (':1.42') */
  get uniqueName(): string {
    return (this.bus as unknown as { name: string }).name;
  }

  /** this connection's calls of one member */
  callsOf(member: string): Msg[] {
    return this.calls.filter((m) => m.member === member);
  }

  reply(msg: Msg, signature: string, body: unknown[]): void {
    this.bus.send(Message.newMethodReturn(msg, signature, body));
  }

  error(msg: Msg, name: string, text: string): void {
    this.bus.send(Message.newError(msg as never, name, text));
  }

  signal(path: string, member: string, signature: string, body: unknown[]): void {
    this.bus.send(Message.newSignal(path, 'com.victronenergy.BusItem', member, signature, body));
  }

  itemsChanged(dict: ItemDict): void {
    this.signal('/', 'ItemsChanged', 'a{sa{sv}}', [dict]);
  }

  /** Waits until the bus has delivered everything sent so far (a round trip through the daemon). */
  async flush(): Promise<void> {
    await this.bus.call(new Message({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus',
      interface: 'org.freedesktop.DBus', member: 'GetId' }));
  }

  /** Drops the connection (as a crash would); again is a no-op. */
  disconnect(): void {
    if (this.closed || !this.bus) return;
    this.closed = true;
    this.bus.disconnect();
  }
}

/** `{ '/Path': { Value: v } }` from `{ '/Path': v }`. */
export function valuesDict(values: Record<string, InstanceType<typeof Variant>>): ItemDict {
  const out: ItemDict = {};
  for (const [p, v] of Object.entries(values)) out[p] = { Value: v };
  return out;
}

/**
 * Lets this process send NaN and ±Infinity doubles, as services written with dbus-python do
 * (velib), where dbus-next refuses them. Only the sending check is relaxed; the bytes on the
 * bus are ordinary IEEE doubles.
 */
export function allowNonFiniteDoubles(): void {
  const marshallers = require('dbus-next/lib/marshallers') as { MakeSimpleMarshaller: (sig: string) => { check: (d: unknown) => void } };
  const make = marshallers.MakeSimpleMarshaller;
  if ((make as { relaxed?: boolean }).relaxed) return;
  const relaxed = (sig: string) => {
    const m = make(sig);
    if (sig === 'd') m.check = (d: unknown) => { if (typeof d !== 'number') throw new Error(`Data: ${String(d)} was not of type number`); };
    return m;
  };
  (relaxed as { relaxed?: boolean }).relaxed = true;
  marshallers.MakeSimpleMarshaller = relaxed;
}

export { Variant };
