// The benchmark's MQTT subscriber: a raw MQTT 3.1.1 client on one TCP connection to the local
// broker (127.0.0.1 only). It also publishes the R/<portal>/keepalive requests.
import * as net from 'net';
import { CONNACK, encodeConnect, encodeDisconnect, encodePublish, encodeSubscribe, PacketReader, SUBACK } from './mqtt-wire';

export type MessageHandler = (topic: string, payload: Buffer, retain: boolean) => void;

export class RawMqttClient {
  /** replaced by the scenarios: called for every PUBLISH received */
  onMessage: MessageHandler = () => undefined;
  private packetId = 0;
  private readonly waiting = new Map<number, Array<() => void>>();
  private closed = false;

  private constructor(private readonly socket: net.Socket) {}

  static connect(port: number, clientId: string, timeoutMs = 5000): Promise<RawMqttClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.setNoDelay(true);
      const client = new RawMqttClient(socket);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no CONNACK from 127.0.0.1:${port}`));
      }, timeoutMs);
      const reader = new PacketReader((t, p, r) => client.onMessage(t, p, r), (pkt) => {
        if (pkt.type === CONNACK) {
          clearTimeout(timer);
          if (pkt.body[1] !== 0) reject(new Error(`CONNACK return code ${pkt.body[1]}`));
          else resolve(client);
        } else {
          const list = client.waiting.get(pkt.type);
          list?.shift()?.();
        }
      });
      socket.on('data', (c: Buffer) => reader.push(c));
      socket.on('error', (e) => {
        clearTimeout(timer);
        if (!client.closed) reject(e);
      });
      socket.on('connect', () => socket.write(encodeConnect(clientId)));
    });
  }

  private expect(type: number): Promise<void> {
    return new Promise((resolve) => {
      if (!this.waiting.has(type)) this.waiting.set(type, []);
      this.waiting.get(type)!.push(resolve);
    });
  }

  /** Subscribes (QoS 0) and resolves on SUBACK. */
  async subscribe(filters: string[]): Promise<void> {
    this.packetId = (this.packetId % 65535) + 1;
    const acked = this.expect(SUBACK);
    this.socket.write(encodeSubscribe(this.packetId, filters));
    await acked;
  }

  publish(topic: string, payload: string, retain = false): void {
    this.socket.write(encodePublish(topic, payload, retain));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.socket.end(encodeDisconnect());
    } catch {
      /* already gone */
    }
    setTimeout(() => this.socket.destroy(), 200).unref();
  }
}
