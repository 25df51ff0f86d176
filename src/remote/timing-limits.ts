// The two times a user may set for a remote GX, and their sane ranges: how often it is kept
// alive (within the GX's 60 s window, K2, and never a flood of keep-alives to the GX or VRM),
// and how long a silence makes it stale (several heartbeats, K7, so that one late heartbeat does
// not). gx-bridge and the gx-config node check the same; the editor mirrors it.

/** `--gx-keepalive-seconds`: at least 1, below the GX's 60 s window */
export const KEEPALIVE_SECONDS = { min: 1, below: 60 } as const;
/** `--gx-stale-seconds`, "Stale after": at least two heartbeat periods, at most an hour */
export const STALE_SECONDS = { min: 6, max: 3600 } as const;

export function keepaliveSecondsProblem(n: number): string | undefined {
  if (Number.isFinite(n) && n >= KEEPALIVE_SECONDS.min && n < KEEPALIVE_SECONDS.below) return undefined;
  return `must be at least ${KEEPALIVE_SECONDS.min} and below ${KEEPALIVE_SECONDS.below} seconds (the GX forgets a keep-alive ` +
    `after 60 s; more often than once a second only loads the GX and VRM)`;
}

export function staleSecondsProblem(n: number): string | undefined {
  if (Number.isFinite(n) && n >= STALE_SECONDS.min && n <= STALE_SECONDS.max) return undefined;
  return `must be ${STALE_SECONDS.min} to ${STALE_SECONDS.max} seconds (the GX's heartbeat comes every 3 s: a shorter time ` +
    'would take one late heartbeat for a GX that stopped answering)';
}
