// Request/answer over a forked child's IPC channel: the parent calls named commands, the child
// serves them. A child exits when its parent goes away (the channel closes), so nothing
// outlives the benchmark.
import { ChildProcess } from 'child_process';

interface Request { id: number; cmd: string; args: unknown }
interface Answer { id: number; ok: boolean; result?: unknown; error?: string }
interface Event { event: string; data: unknown }

export class RpcChild {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readyPromise: Promise<void>;
  private readonly listeners = new Map<string, Array<(data: unknown) => void>>();

  constructor(readonly proc: ChildProcess, readonly name: string) {
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    this.readyPromise = new Promise((res, rej) => { readyResolve = res; readyReject = rej; });
    proc.on('message', (m: Answer | Event | { ready: true }) => {
      if ('ready' in m) return readyResolve();
      if ('event' in m) {
        for (const fn of this.listeners.get(m.event) ?? []) fn(m.data);
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`${name}: ${m.error}`));
    });
    proc.once('exit', (code, sig) => {
      const err = new Error(`${name} exited (${code ?? sig})`);
      readyReject(err);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  on(event: string, fn: (data: unknown) => void): void {
    if (!this.listeners.has(event)) this.listeners.set(event, []);
    this.listeners.get(event)!.push(fn);
  }

  call<T>(cmd: string, args: unknown = {}, timeoutMs = 120000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: '${cmd}' got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => { clearTimeout(timer); resolve(v as T); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.proc.send({ id, cmd, args } as Request);
    });
  }
}

export type Handlers = Record<string, (args: never) => unknown>;

/** In the child: serves the handlers and tells the parent it is ready. */
export function serve(handlers: Handlers): void {
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: Request) => {
    const h = handlers[m.cmd];
    const answer = (a: Omit<Answer, 'id'>) => {
      if (process.connected) process.send!({ id: m.id, ...a });
    };
    if (!h) return answer({ ok: false, error: `unknown command '${m.cmd}'` });
    Promise.resolve()
      .then(() => h(m.args as never))
      .then((result) => answer({ ok: true, result }), (e: Error) => answer({ ok: false, error: e?.stack ?? String(e) }));
  });
  process.send!({ ready: true });
}

/** In the child: an unsolicited message to the parent. */
export function emitEvent(event: string, data: unknown): void {
  if (process.connected) process.send!({ event, data } as Event);
}
