// Log lines for our commands: one line each, with time and level, on stderr.
import { Logger } from '../bridge/engine';

export function consoleLogger(verbose: boolean, prefix: string): Logger {
  const line = (level: string, msg: string) => process.stderr.write(`${new Date().toISOString()} ${prefix} ${level} ${msg}\n`);
  return {
    debug: (m) => { if (verbose) line('debug', m); },
    info: (m) => line('info', m),
    warn: (m) => line('warn', m),
    error: (m) => line('error', m),
  };
}
