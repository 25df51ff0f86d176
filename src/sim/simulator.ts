// GxSimulator: a set of simulated Venus OS services on one bus, each with its own connection.
import { EventEmitter } from 'events';
import * as path from 'path';
import { ReplayOptions, SimService } from './service';
import { loadRecording } from './recording';
import { loadScenario } from './scenario';
import { ChangeGenerator, ChangeOptions } from './synthetic';
import type { ServiceDef, ServiceOptions } from './types';

export interface SimulatorOptions {
  /** D-Bus address (unix:path=…, tcp:host=…,port=…), or 'system' / 'session'. */
  address: string;
  /** Connect/RequestName timeout per service, ms (default 10000). */
  timeoutMs?: number;
  /**
   * How replies and signals are encoded: 'fast' (default, src/sim/wire.ts, byte-identical to
   * dbus-next's and ~20× faster for big GetItems) or 'dbus-next' (bus.send with Message objects).
   */
  marshal?: 'fast' | 'dbus-next';
  /**
   * Export a service again when its connection closes unexpectedly (the dbus-daemon died or
   * restarted), as a Venus service restarted by its supervisor comes back: with its values as
   * they were, replaying again if it was, retrying with backoff from reconnectMinMs (default
   * 500) doubling to reconnectMaxMs (default 10000) until the bus is back or stop().
   */
  reconnect?: boolean;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

/**
 * Events: 'serviceLost' (SimService) when a service's connection closes without
 * removeService/crashService/stop (e.g. the dbus-daemon went away); with `reconnect`,
 * 'serviceRestored' (the new SimService) once it is exported again and 'reconnectFailed'
 * (name, Error, attempt) for each attempt that failed.
 */
export class GxSimulator extends EventEmitter {
  readonly address: string;
  private readonly timeoutMs: number;
  private readonly marshal: 'fast' | 'dbus-next';
  private readonly active = new Map<string, SimService>();
  private readonly generators = new Set<ChangeGenerator>();
  private readonly restoreTimers = new Set<NodeJS.Timeout>();
  private readonly reconnect: { minMs: number; maxMs: number } | undefined;
  private stopped = false;

  constructor(opts: SimulatorOptions) {
    super();
    this.address = opts.address;
    this.timeoutMs = opts.timeoutMs ?? 10000;
    this.marshal = opts.marshal ?? 'fast';
    if (opts.reconnect) {
      const minMs = opts.reconnectMinMs ?? 500;
      this.reconnect = { minMs, maxMs: Math.max(minMs, opts.reconnectMaxMs ?? 10000) };
    }
  }

  /** Exports a service and resolves once it owns its name. `options` override the definition's. */
  async addService(def: ServiceDef, options: Partial<ServiceOptions> = {}): Promise<SimService> {
    if (this.stopped) throw new Error('simulator stopped');
    if (this.active.has(def.name)) throw new Error(`${def.name} is already running in this simulator`);
    const svc = new SimService(def, options);
    this.active.set(def.name, svc);
    svc.once('disconnected', ({ expected }: { expected: boolean }) => {
      if (this.active.get(svc.name) === svc) this.active.delete(svc.name);
      if (expected) return;
      this.emit('serviceLost', svc);
      if (this.reconnect && !this.stopped && svc.uniqueName) this.restore(svc.snapshot(), svc.replayOptions, 0);
    });
    try {
      await svc.connect(this.address, this.timeoutMs, this.marshal);
    } catch (e) {
      if (this.active.get(svc.name) === svc) this.active.delete(svc.name);
      throw e;
    }
    return svc;
  }

  /** Exports a lost service again after the backoff delay for this attempt. */
  private restore(def: ServiceDef, replay: ReplayOptions | undefined, attempt: number): void {
    const { minMs, maxMs } = this.reconnect!;
    const timer = setTimeout(() => {
      this.restoreTimers.delete(timer);
      if (this.stopped || this.active.has(def.name)) return;
      this.addService(def).then((fresh) => {
        if (replay) fresh.startReplay(replay);
        this.emit('serviceRestored', fresh);
      }, (e: Error) => {
        if (this.stopped) return;
        this.emit('reconnectFailed', def.name, e, attempt + 1);
        this.restore(def, replay, attempt + 1);
      });
    }, Math.min(maxMs, minMs * Math.pow(2, attempt)));
    this.restoreTimers.add(timer);
  }

  /** Adds several services in parallel (in batches of `parallel`, default 20). */
  async addServices(defs: ServiceDef[], options: Partial<ServiceOptions> = {}, parallel = 20): Promise<SimService[]> {
    const out: SimService[] = [];
    for (let i = 0; i < defs.length; i += parallel) {
      out.push(...await Promise.all(defs.slice(i, i + parallel).map((d) => this.addService(d, options))));
    }
    return out;
  }

  service(name: string): SimService | undefined {
    return this.active.get(name);
  }

  services(): SimService[] {
    return [...this.active.values()];
  }

  private take(name: string): SimService {
    const svc = this.active.get(name);
    if (!svc) throw new Error(`${name} is not running in this simulator`);
    this.active.delete(name);
    return svc;
  }

  /** Clean removal: ReleaseName, then disconnect. The name can be added again afterwards. */
  async removeService(name: string): Promise<void> {
    await this.take(name).disconnect();
  }

  /** Drops the service's connection without releasing anything (like a crashed process). */
  async crashService(name: string): Promise<void> {
    await this.take(name).crash();
  }

  /** Starts replaying the scripted changes of every service that has some. Returns how many. */
  startReplay(opts: ReplayOptions = {}): number {
    let n = 0;
    for (const s of this.active.values()) if (s.startReplay(opts)) n++;
    return n;
  }

  stopReplay(): void {
    for (const s of this.active.values()) s.stopReplay();
  }

  /** Starts a change generator over the given (default: all) services. */
  startChanges(opts: ChangeOptions): ChangeGenerator {
    const svcs = opts.services ? opts.services.map((n) => {
      const s = this.active.get(n);
      if (!s) throw new Error(`${n} is not running in this simulator`);
      return s;
    }) : this.services();
    const gen: ChangeGenerator = new ChangeGenerator(svcs, opts, () => this.generators.delete(gen));
    this.generators.add(gen);
    return gen;
  }

  /** Stops generators and replays and closes every connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.restoreTimers) clearTimeout(t);
    this.restoreTimers.clear();
    for (const g of [...this.generators]) g.stop();
    const all = [...this.active.values()];
    this.active.clear();
    await Promise.all(all.map((s) => s.disconnect()));
  }
}

/** Loads a .csv recording or a .json scenario into service definitions. */
export function loadFile(file: string): ServiceDef[] {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return [loadRecording(file)];
  if (ext === '.json') return loadScenario(file);
  throw new Error(`${file}: expected a .csv recording or a .json scenario`);
}
