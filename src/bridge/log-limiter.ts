// Keeps a flood of bad requests from becoming a flood of log lines: at most `burst` lines per
// window, then one line saying how many were left out.
import { Logger } from './engine';

export function limitLogger(inner: Logger, burst = 20, windowMs = 10000, now: () => number = Date.now): Logger {
  let windowStart = 0;
  let count = 0;
  let dropped = 0;
  const gate = (write: (m: string) => void) => (msg: string) => {
    const t = now();
    if (t - windowStart >= windowMs) {
      if (dropped > 0) inner.warn(`${dropped} more log lines were left out in the last ${Math.round(windowMs / 1000)} s`);
      windowStart = t;
      count = 0;
      dropped = 0;
    }
    if (count++ < burst) write(msg);
    else dropped++;
  };
  return {
    debug: (m) => inner.debug(m),
    info: gate((m) => inner.info(m)),
    warn: gate((m) => inner.warn(m)),
    error: gate((m) => inner.error(m)),
  };
}
