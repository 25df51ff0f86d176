// Writes to a remote GX (spec W1–W6) and how we learn their outcome. The W carries `serial`
// and `caller_id` (members F ignores, W1); a bridge that answers writes replies on
// `S/<portal>/<same path>` with them: `{"caller_id":…,"return_code":0,"serial":…}`, or
// `{"bus_error":…,"caller_id":…,"serial":…}` when the bus refused the call. Where no reply
// comes (dbus-flashmq sends none, W5), the item's next notification showing the written value
// confirms it; a read right after the write makes the GX send one even when the value did not
// change or the path never signals (R2, W6). Otherwise: sent, not confirmed. A bridge of ours
// in front of such a GX says the same on S/ (a bus_error starting `not confirmed:`), which is
// taken as unconfirmed too, not as a refusal.
import { randomBytes } from 'crypto';
import type { SetValueOutcome } from '../bridge/item-source';
import { encodeValue } from '../bridge/payload';
import { UNCONFIRMED_PREFIX } from '../bridge/write-reply';
import type { TypedValue } from '../bridge/typed-value';

export interface RemoteWriteTiming {
  /** no reply and no notification with the value within this: `unconfirmed` */
  writeTimeoutMs: number;
  /** a notification showed the value: wait this long for a reply too, until we know whether this GX replies */
  replyGraceMs: number;
}

export const REMOTE_WRITE_TIMING: RemoteWriteTiming = { writeTimeoutMs: 5000, replyGraceMs: 500 };

const MAX_PENDING = 1000;
const MAX_REPLY_BYTES = 4096;

/** The bus refused the write; `busError` is the GX's own text. */
export class RemoteWriteError extends Error {
  constructor(message: string, readonly busError?: string) {
    super(message);
  }
}

interface PendingWrite {
  serial: number;
  key: string;
  /** the rest of the topic after the portal: `<type>/<instance><path>` */
  rest: string;
  /** the value as the GX will publish it (encodeValue) */
  expect: string;
  notified: boolean;
  resolve: (o: SetValueOutcome) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  grace?: NodeJS.Timeout;
}

export class RemoteWrites {
  /** random per source, so that our replies are told from other clients' (8 characters) */
  readonly callerId = randomBytes(6).toString('base64').replace(/[+/]/g, 'x');
  private serial = 0;
  private readonly pending = new Map<number, PendingWrite>();
  private readonly byItem = new Map<string, Set<PendingWrite>>();
  /** S/<portal>/# was granted; false: confirmation by notification only */
  repliesSubscribed = false;
  /** this GX has replied on S/ (on this connection) */
  repliesSeen = false;
  /** this GX confirmed a write by notification and sent no reply within the grace time */
  repliesAbsent = false;

  constructor(private readonly timing: RemoteWriteTiming) {}

  /** some write is waiting for its confirmation */
  get busy(): boolean {
    return this.byItem.size > 0;
  }

  /**
   * Sends a write: `publish(payload)` puts the W on the wire (false: not connected). `read()`
   * asks for the item's notification (skipped once the GX is known to reply).
   */
  write(service: string, path: string, rest: string, literal: string, value: TypedValue,
    publish: (payload: string) => boolean, read: () => void): Promise<SetValueOutcome> {
    if (this.pending.size >= MAX_PENDING) return Promise.reject(new RemoteWriteError(`too many writes waiting for the GX (${MAX_PENDING})`));
    const serial = this.serial = this.serial >= 0x7fffffff ? 1 : this.serial + 1;
    const payload = `{"value":${literal},"serial":${serial},"caller_id":"${this.callerId}"}`;
    return new Promise<SetValueOutcome>((resolve, reject) => {
      if (!publish(payload)) {
        reject(new RemoteWriteError("not connected to the GX's broker: the write was not sent"));
        return;
      }
      const key = service + '\n' + path;
      const w: PendingWrite = {
        serial, key, rest, expect: encodeValue(value.signature, value.value), notified: false, resolve, reject,
        timer: setTimeout(() => this.settle(w, w.notified ? 'notification' : 'unconfirmed'), this.timing.writeTimeoutMs),
      };
      this.pending.set(serial, w);
      let set = this.byItem.get(key);
      if (!set) this.byItem.set(key, set = new Set());
      set.add(w);
      if (!this.repliesSeen) read();
    });
  }

  /** A notification for an item: does it show a value we wrote? */
  offer(service: string, path: string, value: TypedValue): void {
    const set = this.byItem.get(service + '\n' + path);
    if (!set) return;
    const text = encodeValue(value.signature, value.value);
    for (const w of [...set]) {
      if (w.notified || text !== w.expect) continue;
      w.notified = true;
      if (!this.repliesSubscribed || this.repliesAbsent) this.settle(w, 'notification');
      else if (!this.repliesSeen) {
        w.grace = setTimeout(() => {
          this.repliesAbsent = true;
          this.settle(w, 'notification');
        }, this.timing.replyGraceMs);
      } // replies seen: the reply settles it (or the timeout, as confirmed by notification)
    }
  }

  /** `S/<portal>/<rest>`: a write reply, ours if the caller_id is. */
  onReply(rest: string, payload: Buffer): void {
    if (payload.length === 0 || payload.length > MAX_REPLY_BYTES) return;
    let r: Record<string, unknown>;
    try {
      const v = JSON.parse(payload.toString('utf8')) as unknown;
      if (!v || typeof v !== 'object' || Array.isArray(v)) return;
      r = v as Record<string, unknown>;
    } catch {
      return;
    }
    if (r.caller_id !== this.callerId || typeof r.serial !== 'number') return;
    const w = this.pending.get(r.serial);
    if (!w || w.rest !== rest) return;
    this.repliesSeen = true;
    this.repliesAbsent = false;
    if (typeof r.bus_error === 'string' && r.bus_error.startsWith(UNCONFIRMED_PREFIX)) {
      // a bridge of ours in front of the GX, which could not confirm it either: not a refusal
      this.settle(w, w.notified ? 'notification' : 'unconfirmed');
      return;
    }
    if (typeof r.bus_error === 'string') {
      this.finish(w);
      w.reject(new RemoteWriteError(`the GX refused the write: ${r.bus_error}`, r.bus_error));
      return;
    }
    const code = typeof r.return_code === 'number' && Number.isInteger(r.return_code) ? r.return_code : 0;
    this.finish(w);
    w.resolve({ code, confirmation: 'reply' });
  }

  private settle(w: PendingWrite, confirmation: 'notification' | 'unconfirmed'): void {
    if (!this.pending.has(w.serial)) return;
    this.finish(w);
    w.resolve({ code: 0, confirmation });
  }

  private finish(w: PendingWrite): void {
    this.pending.delete(w.serial);
    clearTimeout(w.timer);
    if (w.grace) clearTimeout(w.grace);
    const set = this.byItem.get(w.key);
    set?.delete(w);
    if (set && set.size === 0) this.byItem.delete(w.key);
  }

  /** The connection is gone: writes already sent end as sent, not confirmed. */
  connectionLost(): void {
    for (const w of [...this.pending.values()]) this.settle(w, w.notified ? 'notification' : 'unconfirmed');
    this.repliesSeen = false;
    this.repliesAbsent = false;
    this.repliesSubscribed = false;
  }
}
