// A private mosquitto on a free loopback port for the benchmarks. Unlike the test broker it
// sets `max_queued_messages 0`: mosquitto 2 otherwise drops QoS 0 messages for a connected
// subscriber once 1000 are waiting in its socket queue, which would turn a 100 000-topic full
// publish into a measurement of the broker's drop policy instead of the bridge. And it sets
// `set_tcp_nodelay true`: with mosquitto's default (Nagle's algorithm on the sockets to its
// subscribers) a message can wait for the subscriber's delayed ACK (40 ms on Linux), which
// would put the broker's delivery, not the bridge, into the latency percentiles.
// BENCH_BROKER_NAGLE=1 leaves mosquitto's default (for experiments: what users' brokers do).
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { ChildProcess } from 'child_process';
import { freePort, sleep, spawnTracked, stopChild, tempDir } from './processes';

export interface Broker {
  port: number;
  url: string;
  pid: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export async function startBroker(): Promise<Broker> {
  const dir = tempDir('mosquitto');
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(conf, [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'max_queued_messages 0',
    'max_inflight_messages 0',
    ...(process.env.BENCH_BROKER_NAGLE === '1' ? [] : ['set_tcp_nodelay true']),
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    '',
  ].join('\n'));
  const proc = spawnTracked('mosquitto', ['-c', conf]);
  let out = '';
  proc.stderr?.on('data', (c: Buffer) => { out = (out + c.toString()).slice(-4000); });
  proc.stdout?.on('data', () => undefined);
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`mosquitto exited: ${out}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    if (i > 200) throw new Error(`mosquitto does not listen on 127.0.0.1:${port}: ${out}`);
    await sleep(25);
  }
  return { port, url: `mqtt://127.0.0.1:${port}`, pid: proc.pid!, proc, stop: () => stopChild(proc) };
}
