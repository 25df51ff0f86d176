// gx-bridge as users run it: a separate process, started with command-line options.
import * as path from 'path';
import { startProcess, stopProcess, Started } from './processes';

export const DIST = path.join(__dirname, '..', '..');

export interface BridgeProcess {
  started: Started;
  /** everything it printed so far (ready line on stdout, logs on stderr) */
  output(): string;
  stop(): Promise<void>;
  /** waits until its output contains `text` */
  waitOutput(text: string | RegExp, timeoutMs?: number): Promise<void>;
}

export async function startBridge(args: string[]): Promise<BridgeProcess> {
  const started = await startProcess(process.execPath, [path.join(DIST, 'src', 'cli', 'gx-bridge.js'), ...args],
    (out) => out.includes('gx-bridge ready'), { timeoutMs: 20000 });
  return {
    started,
    output: started.output,
    stop: () => stopProcess(started.proc),
    async waitOutput(text, timeoutMs = 5000) {
      const t0 = Date.now();
      const has = () => (typeof text === 'string' ? started.output().includes(text) : text.test(started.output()));
      while (!has()) {
        if (Date.now() - t0 > timeoutMs) throw new Error(`gx-bridge never printed ${text}; output:\n${started.output()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
