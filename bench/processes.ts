// Every process the benchmark starts goes through here, so that it can stop exactly those
// (by their own handle / pid, never by name), also when a scenario fails or on Ctrl-C.
import { ChildProcess, fork, ForkOptions, spawn, SpawnOptions } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

const live = new Set<ChildProcess>();
const cleanups = new Set<() => Promise<void>>();
const tempDirs: string[] = [];

export function track(p: ChildProcess): ChildProcess {
  live.add(p);
  p.once('exit', () => live.delete(p));
  return p;
}

export function spawnTracked(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  return track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts }));
}

/** Forks a compiled bench module (a path relative to dist/bench) with an IPC channel. */
export function forkTracked(module: string, args: string[] = [], opts: ForkOptions = {}): ChildProcess {
  return track(fork(path.join(__dirname, module), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], ...opts }));
}

/** Something else to undo at the end (a dbus-daemon started by test/support, …). */
export function onCleanup(fn: () => Promise<void>): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

export function exited(p: ChildProcess): boolean {
  return p.exitCode !== null || p.signalCode !== null;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
export function stopChild(p: ChildProcess, graceMs = 5000): Promise<void> {
  if (exited(p)) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => p.kill('SIGKILL'), graceMs);
    p.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    p.kill('SIGTERM');
  });
}

/** Stops every child still running and runs the registered clean-ups. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => stopChild(p, 3000)));
  for (const fn of [...cleanups].reverse()) {
    try {
      await fn();
    } catch {
      /* best effort */
    }
  }
  cleanups.clear();
  for (const d of tempDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `gx-bench-${prefix}-`));
  tempDirs.push(d);
  return d;
}

/** A free TCP port on 127.0.0.1. */
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

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `pred` every `stepMs` until true or `timeoutMs` has passed; returns whether it became true. */
export async function waitFor(pred: () => boolean, timeoutMs: number, stepMs = 10): Promise<boolean> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) return false;
    await sleep(stepMs);
  }
  return true;
}
