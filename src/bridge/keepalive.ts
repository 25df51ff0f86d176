// dbus-flashmq's keep-alive state (spec §7.1): one global alive window, restarted by every
// keep-alive; a heartbeat every 3 s while alive; at most 3 full republishes per second.

export interface KeepaliveTiming {
  /** alive window after the last keep-alive (K2), 60 000 ms */
  aliveMs: number;
  /** heartbeat period (K7), 3 000 ms */
  heartbeatMs: number;
  /** full republishes allowed per window (K6), 3 */
  republishTokens: number;
  /** the token window (K6), 1 000 ms */
  tokenWindowMs: number;
}

export const FLASHMQ_TIMING: KeepaliveTiming = { aliveMs: 60000, heartbeatMs: 3000, republishTokens: 3, tokenWindowMs: 1000 };

export interface KeepaliveOptions {
  suppressRepublish: boolean;
  /** full-publish-completed-echo (K5) */
  echo?: string;
}

/** Reads keep-alive options exactly as dbus-flashmq does (K4, K5). */
export function parseKeepaliveOptions(payload: string): KeepaliveOptions {
  const opts: KeepaliveOptions = { suppressRepublish: payload.includes('suppress-republish') };
  let parsed: unknown;
  try {
    parsed = payload.trim() === '' ? undefined : JSON.parse(payload);
  } catch {
    return opts;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return opts;
  const list = (parsed as Record<string, unknown>)['keepalive-options'];
  if (!Array.isArray(list)) return opts;
  for (const el of list) {
    // F looks only at objects (nlohmann's is_object: not arrays); strings such as
    // "suppress-republish", numbers, null and arrays are passed over
    if (!el || typeof el !== 'object' || Array.isArray(el)) continue;
    const echo = (el as Record<string, unknown>)['full-publish-completed-echo'];
    if (typeof echo !== 'string') break; // F stops option parsing here, keeping what it found
    opts.echo = echo;
  }
  return opts;
}

export type KeepaliveOutcome = 'republish' | 'suppressed' | 'rate-limited';

export class KeepaliveState {
  alive = false;
  private aliveTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private tokenTimer: NodeJS.Timeout | undefined;
  private tokens: number;

  constructor(
    private readonly timing: KeepaliveTiming,
    private readonly hooks: { heartbeat: () => void; expired: () => void },
  ) {
    this.tokens = timing.republishTokens;
  }

  /** A keep-alive arrived: refreshes alive and says whether to republish everything. */
  refresh(opts: KeepaliveOptions): KeepaliveOutcome {
    this.alive = true;
    if (this.aliveTimer) clearTimeout(this.aliveTimer);
    this.aliveTimer = setTimeout(() => this.expire(), this.timing.aliveMs);
    if (opts.suppressRepublish) return 'suppressed';
    if (this.tokens <= 0) return 'rate-limited';
    this.tokens--;
    // A fixed window that starts with the first republish in it, like F's 1-s refill timer.
    if (!this.tokenTimer) {
      this.tokenTimer = setTimeout(() => {
        this.tokenTimer = undefined;
        this.tokens = this.timing.republishTokens;
      }, this.timing.tokenWindowMs);
    }
    return 'republish';
  }

  /**
   * Starts the heartbeat unless it runs (K7): one at once, then every period while alive.
   * Called after the republish, so `full_publish_completed` comes before the first heartbeat.
   */
  startHeartbeat(): void {
    if (this.heartbeatTimer || !this.alive) return;
    this.hooks.heartbeat();
    this.heartbeatTimer = setInterval(() => {
      if (!this.alive) return this.stopHeartbeat();
      this.hooks.heartbeat();
    }, this.timing.heartbeatMs);
  }

  private expire(): void {
    this.aliveTimer = undefined;
    this.alive = false;
    this.hooks.expired();
  }

  stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  close(): void {
    if (this.aliveTimer) clearTimeout(this.aliveTimer);
    if (this.tokenTimer) clearTimeout(this.tokenTimer);
    this.stopHeartbeat();
    this.aliveTimer = this.tokenTimer = undefined;
    this.alive = false;
  }
}
