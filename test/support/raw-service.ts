// A hand-driven D-Bus peer for the odd cases the simulator does not produce on its own:
// signals of any shape (PropertiesChanged without Value, ItemsChanged with only Min/Max),
// slow scan replies, answers of the wrong type.
import * as dbus from 'dbus-next';

const { Message, Variant } = dbus;
type Msg = InstanceType<typeof Message>;

export class RawService {
  bus!: dbus.MessageBus;
  /** reply to GetItems: a function so a test can delay or change it */
  onGetItems: (msg: Msg) => void = (msg) => this.reply(msg, 'a{sa{sv}}', [this.items]);
  items: Record<string, Record<string, InstanceType<typeof Variant>>> = {};
  /** GetValue answers for paths that are no items (sub-trees: a{sv} of relative paths) */
  extraValues: Record<string, InstanceType<typeof Variant>> = {};
  calls: Msg[] = [];

  constructor(readonly name: string) {}

  async connect(address: string): Promise<void> {
    this.bus = dbus.sessionBus({ busAddress: address });
    this.bus.on('error', () => undefined);
    this.bus.addMethodHandler((msg: Msg) => {
      this.calls.push(msg);
      if (msg.member === 'GetItems') {
        this.onGetItems(msg);
        return true;
      }
      if (msg.member === 'GetValue') {
        const it = this.items[msg.path as string];
        const extra = this.extraValues[msg.path as string];
        if (extra) this.reply(msg, 'v', [extra]);
        else if (it) this.reply(msg, 'v', [it.Value]);
        else this.bus.send(Message.newError(msg as never, 'org.freedesktop.DBus.Error.UnknownObject', 'no such path'));
        return true;
      }
      if (msg.member === 'SetValue') {
        this.reply(msg, 'i', [0]);
        return true;
      }
      return false;
    });
    await this.bus.requestName(this.name, 0);
  }

  reply(msg: Msg, signature: string, body: unknown[]): void {
    this.bus.send(Message.newMethodReturn(msg, signature, body));
  }

  signal(path: string, member: string, signature: string, body: unknown[]): void {
    this.bus.send(Message.newSignal(path, 'com.victronenergy.BusItem', member, signature, body));
  }

  disconnect(): void {
    this.bus.disconnect();
  }
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
