// Keeping a remote GX alive the way Victron's own GUI does (veutil's MQTT producer): on every
// (re)connect one full keep-alive with a random `full-publish-completed-echo` (K3, K5); the
// republish is complete when `N/<portal>/full_publish_completed` carries that echo back, or
// after a fall-back time (an echo-less Venus OS before 3.50, or a republish dropped by the
// GX's limit of 3 per second, K6). From then on `{"keepalive-options":["suppress-republish"]}`
// every 30 s, well inside the GX's 60 s window (K2, K4). A full keep-alive is sent again only
// when something asks for it (the GX restarted, or went quiet). Every payload also carries our
// `caller_id` (a member dbus-flashmq does not read, K5), so that a bridge that gets our own
// requests back from its broker can tell (a loop: its broker is the GX's).
import { randomBytes } from 'crypto';

export interface KeepaliveLoopTiming {
  /** suppress-republish keep-alives (GX window: 60 s) */
  intervalMs: number;
  /** the first full republish counts as complete after this long without our echo */
  scanFallbackMs: number;
}

export const REMOTE_KEEPALIVE_TIMING: KeepaliveLoopTiming = { intervalMs: 30000, scanFallbackMs: 10000 };

/** A suppress-republish keep-alive with our caller_id: also the payload of every other R we publish (R1, K1, K4). */
export function suppressPayload(callerId: string): string {
  return `{"caller_id":"${callerId}","keepalive-options":["suppress-republish"]}`;
}

export interface KeepaliveLoopHooks {
  /** publishes on R/<portal>/keepalive; false when not connected */
  send(payload: string): boolean;
  /** a full keep-alive is about to go out: returns its generation (for the sweep of gone items) */
  fullStarted(): number;
  /** the full republish of that generation is complete (our echo came back) */
  completed(generation: number): void;
  /** the first full republish of this connection took too long: go on with what arrived */
  fallback(): void;
}

export class KeepaliveLoop {
  private interval: NodeJS.Timeout | undefined;
  private fallbackTimer: NodeJS.Timeout | undefined;
  /** echo token → generation of the full keep-alives still waiting for their completion */
  private readonly waiting = new Map<string, number>();
  private firstDone = false;
  private retriedAfterFallback = false;

  private readonly suppress: string;

  /** `callerId`: letters, digits and `x` only (it goes into the payloads as it is) */
  constructor(private readonly hooks: KeepaliveLoopHooks, private readonly timing: KeepaliveLoopTiming, private readonly callerId: string) {
    this.suppress = suppressPayload(callerId);
  }

  /** The connection is up (again): one full keep-alive, then the suppress timer. */
  start(): void {
    this.stop();
    this.firstDone = false;
    this.retriedAfterFallback = false;
    this.full();
    this.fallbackTimer = setTimeout(() => this.onFallback(), this.timing.scanFallbackMs);
    this.interval = setInterval(() => this.hooks.send(this.suppress), this.timing.intervalMs);
  }

  /**
   * Asks the GX to republish everything; the echo tells which completion is ours. Returns the
   * generation of this republish, or undefined when it could not be sent (not connected).
   */
  full(): number | undefined {
    const echo = randomBytes(8).toString('hex');
    const generation = this.hooks.fullStarted();
    if (!this.hooks.send(`{"caller_id":"${this.callerId}","keepalive-options":[{"full-publish-completed-echo":"${echo}"}]}`)) return undefined;
    this.waiting.set(echo, generation);
    // at most a few outstanding: older ones were dropped by the GX (K6) and will not come back
    if (this.waiting.size > 4) this.waiting.delete(this.waiting.keys().next().value!);
    return generation;
  }

  /** `N/<portal>/full_publish_completed` arrived; echo = its echo, if any. */
  onCompleted(echo: string | undefined): void {
    if (echo === undefined) return; // another client's keep-alive, or a GX without echo (fallback)
    const generation = this.waiting.get(echo);
    if (generation === undefined) return; // someone else's
    for (const [e, g] of this.waiting) if (g <= generation) this.waiting.delete(e);
    this.firstDone = true;
    if (this.fallbackTimer) clearTimeout(this.fallbackTimer);
    this.fallbackTimer = undefined;
    this.hooks.completed(generation);
  }

  private onFallback(): void {
    this.fallbackTimer = undefined;
    if (this.firstDone) return;
    this.hooks.fallback();
    // once per connection: ask again, in case the first one fell under the GX's rate limit
    if (!this.retriedAfterFallback) {
      this.retriedAfterFallback = true;
      this.full();
    }
  }

  /** A suppress-republish keep-alive now (false: not connected). */
  touch(): boolean {
    return this.hooks.send(this.suppress);
  }

  stop(): void {
    if (this.interval) clearInterval(this.interval);
    if (this.fallbackTimer) clearTimeout(this.fallbackTimer);
    this.interval = this.fallbackTimer = undefined;
    this.waiting.clear();
  }
}
