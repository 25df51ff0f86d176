// Keeps a flood of bad requests from becoming a flood of log lines: at most `burst` warnings
// and errors per window, then one line saying how many were left out; debug lines have a budget
// of their own. Info lines (connected, portal learned, D-Bus state) are not caused by requests
// and always pass, so a flood never hides that the broker came back.
// Every line is also cut to a bounded length (topics and payloads are cut where they are
// logged, this is the backstop).
import type { Logger } from './engine-api';
import { logText } from './log-text';

export const LOG_LINE_MAX = 2000;

export function limitLogger(inner: Logger, burst = 20, windowMs = 10000, now: () => number = Date.now): Logger {
  const gate = (summary: (m: string) => void) => {
    let windowStart = 0;
    let count = 0;
    let dropped = 0;
    return (write: (m: string) => void) => (msg: string) => {
      const t = now();
      if (t - windowStart >= windowMs) {
        if (dropped > 0) summary(`${dropped} more log lines were left out in the last ${Math.round(windowMs / 1000)} s`);
        windowStart = t;
        count = 0;
        dropped = 0;
      }
      if (count++ < burst) write(logText(msg, LOG_LINE_MAX));
      else dropped++;
    };
  };
  const main = gate((m) => inner.warn(m));
  const debug = gate((m) => inner.debug(m));
  return {
    debug: debug((m) => inner.debug(m)),
    info: (m) => inner.info(logText(m, LOG_LINE_MAX)),
    warn: main((m) => inner.warn(m)),
    error: main((m) => inner.error(m)),
  };
}
