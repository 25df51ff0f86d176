// Is the GX still talking? While we keep it alive it sends `N/<portal>/heartbeat` every 3 s
// (K7), besides its notifications. Nothing at all from it for `staleMs` (default 10 s on the
// LAN, 30 s through VRM, which may not pass every heartbeat on) makes the source stale: values
// are kept, flows and status can tell. While stale it asks for a full keep-alive now and then
// (10 s, 20 s, 40 s … at most every 2 minutes); the first message heard again ends it. A GX
// that sends nothing at all after the connection (not even the answer to the first keep-alive)
// is stale as soon as the source gives up waiting for that answer.

export interface StaleWatchHooks {
  changed(stale: boolean, detail: string): void;
  /** stale: time to try a fresh full keep-alive */
  retry(): void;
}

const MAX_RETRY_MS = 120000;

export class StaleWatch {
  private lastHeard = Date.now();
  private heardSinceTick = false;
  private timer: NodeJS.Timeout | undefined;
  private _stale = false;
  private nextRetryAt = 0;
  private retryDelay = 0;
  /** something came from the GX since start() */
  heardSinceStart = false;

  constructor(private readonly staleMs: number, private readonly hooks: StaleWatchHooks, private readonly now: () => number = Date.now) {}

  get stale(): boolean {
    return this._stale;
  }

  /** Something arrived from the GX. Called for every message: only a flag, read at each tick. */
  heard(): void {
    this.heardSinceTick = true;
    this.heardSinceStart = true;
    if (this._stale) {
      this._stale = false;
      this.lastHeard = this.now();
      this.hooks.changed(false, 'the GX is heard again');
    }
  }

  start(): void {
    this.stop();
    this.lastHeard = this.now();
    this.heardSinceTick = false;
    this.heardSinceStart = false;
    this._stale = false;
    const tick = Math.max(50, Math.min(1000, Math.floor(this.staleMs / 4)));
    this.timer = setInterval(() => this.check(), tick);
  }

  /** Stale now, whatever the time (running only); recovers like any stale. */
  silent(detail: string): void {
    if (this._stale || !this.timer) return;
    this._stale = true;
    this.retryDelay = this.staleMs;
    this.nextRetryAt = this.now() + this.retryDelay;
    this.hooks.changed(true, detail);
  }

  private check(): void {
    const t = this.now();
    if (this.heardSinceTick) {
      this.heardSinceTick = false;
      this.lastHeard = t;
    }
    if (!this._stale) {
      if (t - this.lastHeard < this.staleMs) return;
      this._stale = true;
      this.retryDelay = this.staleMs;
      this.nextRetryAt = t + this.retryDelay;
      this.hooks.changed(true, `nothing heard from the GX for ${Math.round((t - this.lastHeard) / 1000)} s (no heartbeat, no notification)`);
      this.hooks.retry();
      return;
    }
    if (t >= this.nextRetryAt) {
      this.retryDelay = Math.min(MAX_RETRY_MS, this.retryDelay * 2);
      this.nextRetryAt = t + this.retryDelay;
      this.hooks.retry();
    }
  }

  /** No longer connected: not stale either (the state says more). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this._stale) {
      this._stale = false;
      this.hooks.changed(false, 'disconnected');
    }
  }
}
