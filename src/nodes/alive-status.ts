// For nodes whose status also tells whether the bridge is kept alive (gx-keepalive, and
// gx-notify in "only while alive" mode): the connection status from the config node while not
// connected, "alive" / "not alive" once connected.
import { GxEngine } from '../bridge/engine';
import { NodeStatus, Status } from './status';

export class AliveStatus {
  private connection: NodeStatus = Status.connecting();
  private readonly onAlive = () => this.show();

  constructor(private readonly engine: GxEngine, private readonly set: (s: NodeStatus) => void) {
    engine.on('alive', this.onAlive);
  }

  /** The config node's status fan-out. */
  connectionStatus(s: NodeStatus): void {
    this.connection = s;
    this.show();
  }

  private show(): void {
    if (this.connection.fill !== 'green') this.set(this.connection);
    else this.set(this.engine.alive ? Status.ok('alive') : Status.idle('not alive'));
  }

  close(): void {
    this.engine.removeListener('alive', this.onAlive);
  }
}
