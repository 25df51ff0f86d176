// Drops oversized PUBLISH packets from the broker before MQTT.js buffers and parses them.
// MQTT.js (mqtt-packet) collects a whole packet in memory before it hands it over, so a 100 MB
// request cost hundreds of MB that the process kept afterwards. On MQTT 5 the broker is told
// our maximum packet size and never sends more; on 3.1.1 there is no such thing, so this filter
// sits between the socket and MQTT.js: it reads each packet's fixed header and lets oversized
// PUBLISH packets flow past unbuffered, chunk by chunk, keeping only the start of the topic for
// the log. We subscribe with QoS 0, so nothing needs an acknowledgement.
import { Transform, TransformCallback } from 'stream';

export interface DroppedPacket {
  /** the start of the topic (at most 200 bytes) */
  topic: string;
  topicBytes: number;
  packetBytes: number;
}

const TOPIC_KEPT = 200;

export class OversizedPublishFilter extends Transform {
  /** fixed-header bytes read so far of the packet that starts next */
  private head: number[] = [];
  /** body bytes still to pass or to skip */
  private left = 0;
  private skipping = false;
  private skipped = { topicLen: -1, lenBytes: [] as number[], topic: [] as number[], packetBytes: 0 };
  /** a malformed header: everything passes, MQTT.js reports the error */
  private broken = false;

  constructor(private readonly maxPacketBytes: number, private readonly onDrop: (p: DroppedPacket) => void) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.broken) return cb(null, chunk);
    const n = chunk.length;
    let i = 0;
    let passFrom = -1; // start of the bytes of this chunk to pass on
    const flush = (end: number) => {
      if (passFrom >= 0 && end > passFrom) this.push(chunk.subarray(passFrom, end));
      passFrom = -1;
    };
    while (i < n) {
      if (this.left > 0) {
        const take = Math.min(this.left, n - i);
        if (this.skipping) this.keepTopic(chunk, i, take);
        else if (passFrom < 0) passFrom = i;
        i += take;
        this.left -= take;
        if (this.left === 0 && this.skipping) this.endSkip();
        continue;
      }
      // a fixed header: type byte, then the remaining length in 1–4 bytes
      const headStart = i - this.head.length; // < 0 when it began in an earlier chunk
      let complete = false;
      while (i < n && !complete) {
        const b = chunk[i++];
        this.head.push(b);
        if (this.head.length > 1 && (b & 0x80) === 0) complete = true;
        else if (this.head.length === 5) {
          // a remaining length longer than 4 bytes is not MQTT: pass everything from here on
          this.broken = true;
          flush(Math.max(0, headStart));
          if (headStart < 0) this.push(Buffer.from(this.head.slice(0, -headStart)));
          this.push(chunk.subarray(Math.max(0, headStart)));
          return cb();
        }
      }
      if (!complete) {
        // the header goes on in the next chunk: hold back what is here of it
        flush(Math.max(0, headStart));
        return cb();
      }
      let remaining = 0;
      for (let k = this.head.length - 1; k >= 1; k--) remaining = remaining * 128 + (this.head[k] & 0x7f);
      const packetBytes = this.head.length + remaining;
      const isPublish = this.head[0] >> 4 === 3;
      const headBytes = this.head;
      this.head = [];
      this.left = remaining;
      if (isPublish && packetBytes > this.maxPacketBytes) {
        flush(Math.max(0, headStart));
        this.skipping = true;
        this.skipped = { topicLen: -1, lenBytes: [], topic: [], packetBytes };
        if (remaining === 0) this.endSkip();
      } else if (headStart < 0) {
        // the header began in an earlier chunk: pass those bytes first
        flush(0);
        this.push(Buffer.from(headBytes.slice(0, headBytes.length - i)));
        passFrom = 0;
      } else if (passFrom < 0) {
        passFrom = headStart;
      }
    }
    flush(n);
    cb();
  }

  private keepTopic(chunk: Buffer, from: number, count: number): void {
    const s = this.skipped;
    let j = from;
    const end = from + count;
    while (j < end && s.lenBytes.length < 2) s.lenBytes.push(chunk[j++]);
    if (s.lenBytes.length === 2 && s.topicLen < 0) s.topicLen = (s.lenBytes[0] << 8) | s.lenBytes[1];
    while (j < end && s.topicLen >= 0 && s.topic.length < Math.min(s.topicLen, TOPIC_KEPT)) s.topic.push(chunk[j++]);
  }

  private endSkip(): void {
    this.skipping = false;
    const s = this.skipped;
    this.onDrop({ topic: Buffer.from(s.topic).toString('utf8'), topicBytes: Math.max(0, s.topicLen), packetBytes: s.packetBytes });
  }
}
