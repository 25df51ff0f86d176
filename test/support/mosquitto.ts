// A real mosquitto broker on a free loopback port, and the mosquitto_sub / mosquitto_pub
// clients that Victron's documentation tells users to run.
import { ChildProcess, execFile, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { freePort, startProcess, stopProcess, tempDir, Started } from './processes';

export interface Broker {
  port: number;
  url: string;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

/** A broker user: its password and its ACL lines (`topic read N/#`, `topic write W/#` …). */
export interface BrokerUser {
  name: string;
  password: string;
  acl: string[];
}

/**
 * Without options: anonymous access to everything. With `users`: they may log in, each limited
 * by its ACL (mosquitto drops what a user may not publish, and delivers to a user only what it
 * may read); anonymous clients only with `anonymous`, their ACL lines. `extraConf`: more lines at
 * the end, e.g. further listeners.
 */
export async function startMosquitto(opts: { users?: BrokerUser[]; anonymous?: string[]; extraConf?: string[] } = {}): Promise<Broker> {
  const dir = tempDir('mosquitto');
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  let access = 'allow_anonymous true\n';
  if (opts.users) {
    const passwd = path.join(dir, 'passwd');
    fs.writeFileSync(passwd, '');
    for (const u of opts.users) execFileSync('mosquitto_passwd', ['-b', passwd, u.name, u.password]);
    // ACL lines before the first `user` line are for anonymous clients
    const acl = [(opts.anonymous ?? []).join('\n'), ...opts.users.map((u) => [`user ${u.name}`, ...u.acl].join('\n'))];
    fs.writeFileSync(path.join(dir, 'acl'), acl.join('\n\n') + '\n');
    access = `per_listener_settings false\nallow_anonymous ${opts.anonymous ? 'true' : 'false'}\npassword_file ${passwd}\n` +
      `acl_file ${path.join(dir, 'acl')}\n`;
  }
  fs.writeFileSync(conf, `${access}persistence false\n` +
    `log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\n` +
    `listener ${port} 127.0.0.1\n${(opts.extraConf ?? []).join('\n')}\n`);
  // mosquitto started as root reads its files as the 'mosquitto' user
  fs.chmodSync(dir, 0o755);
  for (const n of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, n), 0o644);
  let started: Started | undefined;
  const launch = async () => {
    started = await startProcess('mosquitto', ['-c', conf], (out) => out.includes(`port ${port}`) || out.includes('running'));
    await waitForPort(port);
  };
  await launch();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    async stop() { if (started) await stopProcess(started.proc); },
    async restart() { if (started) await stopProcess(started.proc); await launch(); },
  };
}

async function waitForPort(port: number): Promise<void> {
  const net = await import('net');
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on port ${port}`);
}

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

/**
 * mosquitto_sub -F '%r %t %p': every message with its retain flag. Resolves once subscribed
 * (it waits until a probe message published by us comes back).
 */
export class Subscriber {
  readonly messages: Received[] = [];
  private proc?: ChildProcess;
  private buf = '';
  private waiters: Array<() => void> = [];

  /**
   * keepEarly: keep what arrived while subscribing (retained messages) instead of clearing it.
   * asPublished: MQTT 5 with retain-as-published, so live messages show their retain flag too.
   */
  constructor(private port: number, private topics: string[], private keepEarly = false, private asPublished = false) {}

  async start(): Promise<this> {
    const probe = `gxtest/probe/${process.pid}/${Math.random().toString(16).slice(2)}`;
    const args = ['-h', '127.0.0.1', '-p', String(this.port), '-N', '-F', '%r\t%t\t%p\x1e'];
    if (this.asPublished) args.push('-V', 'mqttv5', '--retain-as-published');
    for (const t of [...this.topics, probe]) args.push('-t', t);
    this.proc = spawn('mosquitto_sub', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (c: Buffer) => this.onData(c));
    for (let i = 0; i < 100; i++) {
      await publish(this.port, probe, 'probe');
      if (await this.waitFor((m) => m.topic === probe, 200).then(() => true, () => false)) break;
    }
    const idx = this.messages.findIndex((m) => m.topic === probe);
    if (idx < 0) throw new Error('mosquitto_sub did not subscribe');
    if (this.keepEarly) this.messages.splice(0, this.messages.length, ...this.messages.filter((m) => m.topic !== probe));
    else this.messages.length = 0;
    return this;
  }

  private onData(c: Buffer) {
    this.buf += c.toString('utf8');
    let i: number;
    while ((i = this.buf.indexOf('\x1e')) >= 0) {
      const rec = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      const [r, topic, ...rest] = rec.split('\t');
      this.messages.push({ retain: r === '1', topic, payload: rest.join('\t') });
    }
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  /** Waits until a message satisfies `pred` (looking at those received so far too). */
  waitFor(pred: (m: Received) => boolean, timeoutMs = 5000): Promise<Received> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const m = this.messages.find(pred);
        if (m) { clearTimeout(timer); resolve(m); return true; }
        return false;
      };
      const timer = setTimeout(() => reject(new Error('timed out waiting for a message')), timeoutMs);
      const loop = () => { if (!check()) this.waiters.push(loop); };
      loop();
    });
  }

  clear(): void { this.messages.length = 0; }

  async stop(): Promise<void> { if (this.proc) await stopProcess(this.proc); }
}

/** mosquitto_pub once. */
export function publish(port: number, topic: string, payload: string, opts: { retain?: boolean } = {}): Promise<void> {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-t', topic];
  if (payload.length > 65536) {
    // too large for a command line: from a file
    const file = path.join(tempDir('payload'), 'payload');
    fs.writeFileSync(file, payload);
    args.push('-f', file);
  } else {
    args.push('-m', payload);
  }
  if (opts.retain) args.push('-r');
  return new Promise((resolve, reject) => {
    execFile('mosquitto_pub', args, (err) => (err ? reject(err) : resolve()));
  });
}
