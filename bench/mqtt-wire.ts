// MQTT 3.1.1 by hand: just enough of the wire format for the benchmarks' raw clients
// (CONNECT, SUBSCRIBE, PUBLISH QoS 0, DISCONNECT out; CONNACK, SUBACK, PUBLISH in).
// Hand-encoding lets the baseline write thousands of pre-encoded PUBLISH packets in one
// socket write, and the subscriber parse 50 000 messages/s without a client library's costs.

export const CONNACK = 2;
export const PUBLISH = 3;
export const SUBACK = 9;
export const PINGRESP = 13;

function remainingLength(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    bytes.push(b);
  } while (n > 0);
  return Buffer.from(bytes);
}

function str(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  const out = Buffer.allocUnsafe(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

function packet(first: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([first]), remainingLength(body.length), body]);
}

/** CONNECT with a clean session and no keep-alive (the benchmark connections are short). */
export function encodeConnect(clientId: string): Buffer {
  const vh = Buffer.concat([str('MQTT'), Buffer.from([4, 0x02, 0, 0])]);
  return packet(0x10, Buffer.concat([vh, str(clientId)]));
}

export function encodeSubscribe(packetId: number, filters: string[]): Buffer {
  const id = Buffer.alloc(2);
  id.writeUInt16BE(packetId, 0);
  return packet(0x82, Buffer.concat([id, ...filters.map((f) => Buffer.concat([str(f), Buffer.from([0])]))]));
}

/** PUBLISH with QoS 0. */
export function encodePublish(topic: string, payload: string | Buffer, retain = false): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return packet(0x30 | (retain ? 1 : 0), Buffer.concat([str(topic), p]));
}

export function encodeDisconnect(): Buffer {
  return Buffer.from([0xe0, 0]);
}

export interface Packet {
  type: number;
  flags: number;
  /** the packet's body (variable header and payload) */
  body: Buffer;
}

/**
 * Splits a byte stream into packets and hands PUBLISH packets (topic, payload) to `onPublish`,
 * everything else to `onPacket`. The payload is a view into the received chunk: copy it to keep it.
 */
export class PacketReader {
  private rest: Buffer | undefined;

  constructor(
    private readonly onPublish: (topic: string, payload: Buffer, retain: boolean) => void,
    private readonly onPacket: (p: Packet) => void,
  ) {}

  push(chunk: Buffer): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = undefined;
    let pos = 0;
    const end = buf.length;
    while (pos < end) {
      if (end - pos < 2) break;
      const first = buf[pos];
      let len = 0;
      let mul = 1;
      let i = pos + 1;
      let complete = false;
      for (; i < end && i < pos + 5; i++) {
        const b = buf[i];
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          i++;
          break;
        }
      }
      if (!complete || i + len > end) break;
      const type = first >> 4;
      if (type === PUBLISH) {
        const tlen = buf.readUInt16BE(i);
        const topic = buf.toString('utf8', i + 2, i + 2 + tlen);
        let p = i + 2 + tlen;
        if ((first & 0x06) !== 0) p += 2; // packet id for QoS 1/2
        this.onPublish(topic, buf.subarray(p, i + len), (first & 1) === 1);
      } else {
        this.onPacket({ type, flags: first & 0x0f, body: buf.subarray(i, i + len) });
      }
      pos = i + len;
    }
    if (pos < end) this.rest = Buffer.from(buf.subarray(pos));
  }
}
