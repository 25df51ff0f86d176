// A D-Bus peer whose answers a test scripts: GetItems from `items`, GetValue from `values`
// (or a path's item), SetValue answered after `setValueDelayMs` (a slow service, to redeploy
// during a write). Used where the simulator answers too well.
import * as dbus from 'dbus-next';

const { Message, Variant } = dbus;
type Msg = InstanceType<typeof Message>;
type V = InstanceType<typeof Variant>;

export class ScriptedPeer {
  bus!: dbus.MessageBus;
  items: Record<string, V> = {};
  /** GetValue answers by path, beyond the items (sub-trees, odd replies) */
  values: Record<string, V> = {};
  setValueDelayMs = 0;
  /** SetValue calls as they arrive, in order */
  readonly received: Array<{ path: string; value: unknown }> = [];
  /** SetValue calls as they are answered, in order (the item takes the value then) */
  readonly writes: Array<{ path: string; value: unknown }> = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(readonly name: string) {}

  async connect(address: string): Promise<void> {
    this.bus = dbus.sessionBus({ busAddress: address });
    this.bus.on('error', () => undefined);
    this.bus.addMethodHandler((msg: Msg) => {
      if (msg.member === 'GetItems') {
        const body: Record<string, Record<string, V>> = {};
        for (const [p, v] of Object.entries(this.items)) body[p] = { Value: v };
        this.bus.send(Message.newMethodReturn(msg, 'a{sa{sv}}', [body]));
        return true;
      }
      if (msg.member === 'GetValue') {
        const v = this.values[msg.path as string] ?? this.items[msg.path as string];
        if (v) this.bus.send(Message.newMethodReturn(msg, 'v', [v]));
        else this.bus.send(Message.newError(msg as never, 'org.freedesktop.DBus.Error.UnknownObject', 'no such path'));
        return true;
      }
      if (msg.member === 'SetValue') {
        this.received.push({ path: msg.path as string, value: (msg.body[0] as V).value });
        const answer = () => {
          this.writes.push({ path: msg.path as string, value: (msg.body[0] as V).value });
          this.items[msg.path as string] = msg.body[0] as V;
          this.bus.send(Message.newMethodReturn(msg, 'i', [0]));
        };
        if (this.setValueDelayMs <= 0) answer();
        else {
          const t = setTimeout(() => { this.timers.delete(t); answer(); }, this.setValueDelayMs);
          this.timers.add(t);
        }
        return true;
      }
      return false;
    });
    await this.bus.requestName(this.name, 0);
  }

  disconnect(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.bus.disconnect();
  }
}

export { Variant };
