// A private dbus-daemon for the demo: its own configuration and unix socket in a folder we
// are given (a temp folder), never the machine's system or session bus. Same configuration as
// the tests' bus (test/support/dbus-daemon.ts), without the TCP listener.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export interface PrivateBus {
  /** unix:path=… */
  address: string;
  /** the dbus-daemon's process id */
  pid: number;
  proc: ChildProcess;
  /** resolves when the daemon has exited (SIGTERM, then SIGKILL after graceMs) */
  stop(graceMs?: number): Promise<void>;
}

/** Where dbus-daemon is, or undefined when it is not installed. */
export function findProgram(program: string, envPath = process.env.PATH ?? ''): string | undefined {
  const dirs = envPath.split(':').filter(Boolean).concat(['/usr/bin', '/usr/sbin', '/bin', '/sbin', '/usr/local/bin']);
  for (const dir of dirs) {
    const p = path.join(dir, program);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A bus configuration for a private daemon; with `tcpPort`, also a loopback TCP listener (ANONYMOUS, as a GX's port 78). */
export function busConfig(socket: string, tcpPort?: number): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socket}</listen>
  ${tcpPort ? `<listen>tcp:host=127.0.0.1,bind=127.0.0.1,port=${tcpPort}</listen>` : ''}
  <auth>EXTERNAL</auth>
  <auth>ANONYMOUS</auth>
  <allow_anonymous/>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
    <allow user="*"/>
  </policy>
  <limit name="max_incoming_bytes">1000000000</limit>
  <limit name="max_outgoing_bytes">1000000000</limit>
  <limit name="max_message_size">268435456</limit>
  <limit name="max_replies_per_connection">100000</limit>
  <limit name="max_match_rules_per_connection">100000</limit>
  <limit name="max_connections_per_user">10000</limit>
  <limit name="max_completed_connections">10000</limit>
</busconfig>
`;
}

/**
 * Starts dbus-daemon with its configuration and socket in `dir` and resolves once it prints
 * its address. `detached` puts it in its own process group, so that a Ctrl-C in the terminal
 * reaches only our process, which then stops the daemon last, after its clients.
 */
export function startPrivateBus(dir: string, opts: { program?: string; timeoutMs?: number; detached?: boolean } = {}): Promise<PrivateBus> {
  const socket = path.join(dir, 'bus.sock');
  const confPath = path.join(dir, 'bus.conf');
  fs.writeFileSync(confPath, busConfig(socket));
  const proc = spawn(opts.program ?? 'dbus-daemon', ['--config-file', confPath, '--nofork', '--print-address=1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached ?? false,
  });
  let out = '';
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async (graceMs = 3000) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const t = setTimeout(() => { try { proc.kill('SIGKILL'); } catch { /* gone */ } }, graceMs);
    try { proc.kill('SIGTERM'); } catch { /* gone */ }
    await exited;
    clearTimeout(t);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop(0);
      reject(new Error(`dbus-daemon did not start in time; it said:\n${out}`));
    }, opts.timeoutMs ?? 10000);
    const onData = (c: Buffer) => {
      out += c.toString();
      if (!out.includes('unix:')) return;
      clearTimeout(timer);
      proc.stdout!.removeListener('data', onData);
      proc.stdout!.resume();
      resolve({ address: `unix:path=${socket}`, pid: proc.pid!, proc, stop });
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
    proc.once('error', (e) => { clearTimeout(timer); reject(e); });
    proc.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`dbus-daemon exited (${code ?? sig}) before it was ready; it said:\n${out}`));
    });
  });
}
