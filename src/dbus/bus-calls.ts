// Method calls on one D-Bus connection, with what dbus-next lacks: a timeout, cancellation,
// and a bound on the calls one peer leaves unanswered.
//
// dbus-daemon counts every call it has not seen answered against the caller
// (max_replies_per_connection, 128 on a system bus), the calls we gave up on included; once
// the limit is reached every call of ours fails with LimitsExceeded, to every service. So a
// service that never answers must not get us there: a call we give up on (timeout, cancel)
// stays counted until its late answer arrives (or the daemon's NoReply when the service leaves
// the bus), and a peer with too many calls unanswered is not called again until it answers.
import * as dbus from 'dbus-next';

type Msg = InstanceType<typeof dbus.Message>;

export class DbusError extends Error {
  constructor(readonly errorName: string, message: string) {
    super(message);
  }
}

export const NO_REPLY = 'org.freedesktop.DBus.Error.NoReply';
export const LIMITS_EXCEEDED = 'org.freedesktop.DBus.Error.LimitsExceeded';
export const CANCELLED = 'Cancelled';
const BUS_DRIVER = 'org.freedesktop.DBus';

export interface CallLimits {
  /** calls one peer may have unanswered (in flight or given up on) before we stop calling it */
  maxUnansweredPerPeer: number;
  /** calls given up on, in all; past this, peers that left calls unanswered are not called */
  maxAbandoned: number;
}

export interface CallOptions {
  timeoutMs: number;
  /** aborts the call: its promise rejects at once (the call stays counted until answered) */
  signal?: AbortSignal;
  /** whom the limits count it against: the unique name behind the destination, where known */
  peer?: string;
}

export class BusCalls {
  private readonly unanswered = new Map<string, number>();
  private readonly abandonedBy = new Map<string, number>();
  private abandoned = 0;
  private readonly waiting = new Set<(err: Error) => void>();
  private closed = false;

  /** `answered` is told the destination of every answer, after dbus-next has seen it */
  constructor(private readonly bus: dbus.MessageBus, private readonly limits: CallLimits,
    private readonly answered: (destination: string) => void = () => undefined) {}

  /** calls not answered yet, and of those the ones given up on */
  get stats(): { unanswered: number; abandoned: number } {
    let n = 0;
    for (const c of this.unanswered.values()) n += c;
    return { unanswered: n, abandoned: this.abandoned };
  }

  call(msg: Msg, opts: CallOptions): Promise<Msg> {
    const peer = opts.peer ?? msg.destination ?? '';
    if (this.closed) return Promise.reject(new DbusError('Disconnected', 'the D-Bus connection is closed'));
    if (opts.signal?.aborted) return Promise.reject(new DbusError(CANCELLED, `${msg.member} on ${msg.destination} was cancelled`));
    const open = this.unanswered.get(peer) ?? 0;
    // The bus itself answers every call at once and is no service that could hang: it is not
    // bounded (on connecting, one GetNameOwner per service goes to it, more than the bound).
    if ((peer !== BUS_DRIVER && open >= this.limits.maxUnansweredPerPeer) ||
      (this.abandoned >= this.limits.maxAbandoned && (this.abandonedBy.get(peer) ?? 0) > 0)) {
      return Promise.reject(new DbusError(LIMITS_EXCEEDED,
        `${msg.destination} left ${open} calls unanswered; it is not called again until it answers`));
    }
    let sent: Promise<unknown>;
    try {
      sent = this.bus.call(msg);
    } catch (e) {
      return Promise.reject(new DbusError('InvalidArgs', (e as Error).message));
    }
    this.unanswered.set(peer, open + 1);
    return new Promise<Msg>((resolve, reject) => {
      let settled = false;
      let gaveUp = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        this.waiting.delete(giveUp);
        fn();
      };
      const giveUp = (err: Error) => settle(() => {
        gaveUp = true;
        this.count(this.abandonedBy, peer, 1);
        this.abandoned++;
        reject(err);
      });
      const timer = setTimeout(() => giveUp(new DbusError(NO_REPLY,
        `no reply to ${msg.member} on ${msg.destination} ${msg.path} within ${opts.timeoutMs} ms`)), opts.timeoutMs);
      const onAbort = () => giveUp(new DbusError(CANCELLED, `${msg.member} on ${msg.destination} was cancelled`));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.add(giveUp);
      const answered = () => {
        if (this.closed) return;
        this.answered(msg.destination ?? '');
        this.count(this.unanswered, peer, -1);
        if (gaveUp) {
          this.count(this.abandonedBy, peer, -1);
          this.abandoned--;
        }
      };
      sent.then(
        (reply) => {
          answered();
          settle(() => resolve(reply as Msg)); // a late answer to a call given up on goes nowhere
        },
        (err: Error & { type?: string; text?: string }) => {
          answered();
          settle(() => reject(new DbusError(err.type ?? 'Error', err.text ?? err.message)));
        },
      );
    });
  }

  private count(map: Map<string, number>, peer: string, delta: number): void {
    const n = (map.get(peer) ?? 0) + delta;
    if (n > 0) map.set(peer, n);
    else map.delete(peer);
  }

  /** The connection went: every waiting call fails with `err`. */
  close(err: Error): void {
    this.closed = true;
    for (const giveUp of [...this.waiting]) giveUp(err);
    this.waiting.clear();
    this.unanswered.clear();
    this.abandonedBy.clear();
    this.abandoned = 0;
  }
}
