// A private dbus-daemon for tests: its own config, a unix socket in a temp folder and,
// optionally, a loopback TCP listener with ANONYMOUS auth (as a GX offers on port 78).
// Tests never touch the machine's system bus.
import * as fs from 'fs';
import * as path from 'path';
import { busConfig } from '../../src/cli/private-bus';
import { freePort, startProcess, stopProcess, tempDir, Started } from './processes';

export interface PrivateBus {
  /** unix:path=… address of the bus */
  address: string;
  /** tcp:host=127.0.0.1,port=… address, when started with tcp */
  tcpAddress?: string;
  tcpPort?: number;
  dir: string;
  stop(): Promise<void>;
  /** Starts the daemon again at the same address(es) after stop() (fault tests). */
  restart(): Promise<void>;
  /** Kills the daemon at once (SIGKILL): clients lose their connection without a NameOwnerChanged first. */
  kill(): Promise<void>;
}

/**
 * `limits` overrides the daemon's limits (e.g. `{ max_replies_per_connection: 32 }`, closer to
 * a system bus's 128 than the demo configuration's generous values).
 */
export async function startPrivateBus(opts: { tcp?: boolean; limits?: Record<string, number> } = {}): Promise<PrivateBus> {
  const dir = tempDir('dbus');
  const socket = path.join(dir, 'bus.sock');
  const tcpPort = opts.tcp ? await freePort() : undefined;
  const confPath = path.join(dir, 'bus.conf');
  let conf = busConfig(socket, tcpPort);
  for (const [name, value] of Object.entries(opts.limits ?? {})) {
    const line = `<limit name="${name}">${value}</limit>`;
    const re = new RegExp(`<limit name="${name}">[^<]*</limit>`);
    conf = re.test(conf) ? conf.replace(re, line) : conf.replace('</busconfig>', `  ${line}\n</busconfig>`);
  }
  fs.writeFileSync(confPath, conf);
  let started: Started | undefined;
  const launch = async () => {
    try { fs.unlinkSync(socket); } catch { /* not there */ }
    started = await startProcess('dbus-daemon', ['--config-file', confPath, '--nofork', '--print-address=1'],
      (out) => out.includes('unix:') || out.includes('tcp:'));
  };
  await launch();
  return {
    address: `unix:path=${socket}`,
    tcpAddress: tcpPort ? `tcp:host=127.0.0.1,port=${tcpPort}` : undefined,
    tcpPort,
    dir,
    async stop() {
      if (started) await stopProcess(started.proc);
    },
    async restart() {
      if (started) await stopProcess(started.proc);
      await launch();
    },
    async kill() {
      const proc = started?.proc;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGKILL');
      });
    },
  };
}
