// Starting and stopping the real programs the tests use (dbus-daemon, mosquitto, our CLIs).
// Every helper here stops exactly the process it started, never anything else.
import { ChildProcess, spawn, SpawnOptions } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `gx-${prefix}-`));
}

/** A free TCP port on 127.0.0.1 (bound once by us and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface Started {
  proc: ChildProcess;
  output(): string;
}

/** Spawns a program and resolves once `ready(outputSoFar)` returns a truthy value. */
export function startProcess(
  cmd: string,
  args: string[],
  ready: (out: string) => boolean,
  opts: SpawnOptions & { timeoutMs?: number } = {},
): Promise<Started> {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${cmd} did not become ready in time; output:\n${out}`));
    }, opts.timeoutMs ?? 15000);
    const check = (chunk: Buffer) => {
      out += chunk.toString();
      if (ready(out)) {
        clearTimeout(timer);
        proc.stdout?.removeListener('data', check);
        proc.stderr?.removeListener('data', check);
        proc.stdout?.on('data', (c: Buffer) => { out += c.toString(); });
        proc.stderr?.on('data', (c: Buffer) => { out += c.toString(); });
        resolve({ proc, output: () => out });
      }
    };
    proc.stdout?.on('data', check);
    proc.stderr?.on('data', check);
    proc.on('error', (err) => { clearTimeout(timer); reject(err); });
    proc.on('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited (${code ?? sig}) before it was ready; output:\n${out}`));
    });
  });
}

/** Stops a process we started: SIGTERM, then SIGKILL after a grace period. */
export function stopProcess(proc: ChildProcess, graceMs = 3000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    proc.once('exit', () => { clearTimeout(t); resolve(); });
    proc.kill('SIGTERM');
  });
}

/** Resident memory of a process we started, in bytes (Linux /proc). */
export function residentBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1024;
}
