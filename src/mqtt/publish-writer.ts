// QoS 0 PUBLISH packets written straight to the broker connection, many per socket write.
// dbus-flashmq appends to its clients' buffers and flushes when control returns to the event
// loop ("a prerequisite to being fast", spec T1); MQTT.js's publish() builds and writes every
// packet on its own. QoS 0 needs no packet id or state, so packets we encode ourselves can go
// between MQTT.js's own packets, as long as each packet is written whole.

const CHUNK = 64 * 1024;

export interface PacketSink {
  write(chunk: Buffer): boolean;
  cork?(): void;
  uncork?(): void;
  writableLength?: number;
}

/** Appends PUBLISH packets to a buffer and writes them out once per event-loop turn. */
export class PublishWriter {
  private chunks: Buffer[] = [];
  private buf: Buffer = Buffer.allocUnsafe(CHUNK);
  /** bytes of buf already handed out (written slices must never be overwritten) */
  private start = 0;
  private used = 0;
  private scheduled = false;
  /** packets handed to the socket so far */
  packets = 0;

  /** mqtt5: PUBLISH packets carry a (zero) property length; set on each connect */
  constructor(private readonly sink: () => PacketSink | undefined, public mqtt5: boolean) {}

  /** Encodes one QoS 0 PUBLISH; it goes out at the end of this event-loop turn. */
  publish(topic: string, payload: string, retain: boolean): void {
    const topicLen = Buffer.byteLength(topic);
    const payloadLen = payload.length === 0 ? 0 : Buffer.byteLength(payload);
    const remaining = 2 + topicLen + (this.mqtt5 ? 1 : 0) + payloadLen;
    const size = 1 + varIntSize(remaining) + remaining;
    if (this.used + size > this.buf.length) this.rotate(size);
    const b = this.buf;
    let o = this.used;
    b[o++] = retain ? 0x31 : 0x30;
    let r = remaining;
    do {
      let byte = r % 128;
      r = Math.floor(r / 128);
      if (r > 0) byte |= 0x80;
      b[o++] = byte;
    } while (r > 0);
    b[o++] = topicLen >> 8;
    b[o++] = topicLen & 0xff;
    o += writeText(b, topic, o, topicLen);
    if (this.mqtt5) b[o++] = 0; // no properties
    if (payloadLen) o += writeText(b, payload, o, payloadLen);
    this.used = o;
    this.packets++;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /**
   * The current buffer is full: what it holds goes to the socket now (a large full publish
   * starts flowing at once), and encoding continues in a new buffer.
   */
  private rotate(need: number): void {
    this.cut();
    this.writeOut();
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK, need));
    this.start = this.used = 0;
  }

  private cut(): void {
    if (this.used > this.start) this.chunks.push(this.buf.subarray(this.start, this.used));
    this.start = this.used;
  }

  /** Writes everything encoded so far (dropped when there is no connection). */
  flush(): void {
    this.scheduled = false;
    this.cut();
    this.writeOut();
  }

  private writeOut(): void {
    const chunks = this.chunks;
    this.chunks = [];
    const sink = this.sink();
    if (!sink || chunks.length === 0) return;
    sink.cork?.();
    for (const c of chunks) sink.write(c);
    sink.uncork?.();
  }

  /** Bytes waiting to be written. */
  get pendingBytes(): number {
    return this.used - this.start + this.chunks.reduce((n, c) => n + c.length, 0);
  }
}

/** Buffer's own encoders, without buf.write()'s argument handling (a third of a full publish's time) */
interface TextWriting {
  utf8Write(s: string, offset: number, length: number): number;
  latin1Write(s: string, offset: number, length: number): number;
}

/** `s` (of `bytes` UTF-8 bytes) at `offset`; ASCII (as many bytes as characters) is copied as it is. */
function writeText(b: Buffer, s: string, offset: number, bytes: number): number {
  const w = b as unknown as TextWriting;
  return bytes === s.length ? w.latin1Write(s, offset, bytes) : w.utf8Write(s, offset, bytes);
}

function varIntSize(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}
