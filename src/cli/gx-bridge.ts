#!/usr/bin/env node
// gx-bridge: the D-Bus ⇄ MQTT bridge without Node-RED. A drop-in for dbus-mqtt / dbus-flashmq
// on any Linux box, next to a GX that offers D-Bus over TCP, and what the benchmarks drive.
import * as fs from 'fs';
import { parseWritePatterns, WritePolicy } from '../bridge/write-policy';
import { GxGateway } from '../gateway';
import { optNumber, optString, parseArgs } from './args';
import { consoleLogger } from './logger';

const USAGE = `usage: gx-bridge --dbus <system|session|address|host:port> --broker <url> [options]
  --portal-id <id>          portal ID (default: /data/venus/unique-id, else system /Serial)
  --mode flashmq|legacy     protocol behaviour (default flashmq = dbus-flashmq; legacy = dbus-mqtt)
  --username <u> --password <p>   broker credentials (a VRM token works as 'Token <token>')
  --client-id <id>          MQTT client id
  --ca <file> --cert <file> --key <file>   TLS files for mqtts:// and wss://
  --insecure                do not verify the broker's TLS certificate
  --write-policy all|none|patterns   --write-patterns 'vebus/+/Hub4/#,settings/0/Settings/CGwacs/#'
  --keepalive-seconds <n>   keep-alive window (default 60)
  --verbose                 debug logging`;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), ['insecure', 'verbose', 'help']);
  if (args.options.has('help')) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const broker = optString(args, 'broker');
  if (!broker) throw new Error('--broker is required\n' + USAGE);
  const mode = optString(args, 'mode') ?? 'flashmq';
  if (mode !== 'flashmq' && mode !== 'legacy') throw new Error(`--mode must be flashmq or legacy, not '${mode}'`);
  const policyMode = optString(args, 'write-policy') ?? 'all';
  if (!['all', 'none', 'patterns'].includes(policyMode)) throw new Error(`--write-policy must be all, none or patterns`);
  const writePolicy: WritePolicy = { mode: policyMode as WritePolicy['mode'], patterns: parseWritePatterns(optString(args, 'write-patterns') ?? '') };
  const keepaliveSeconds = optNumber(args, 'keepalive-seconds');
  const file = (name: string) => {
    const f = optString(args, name);
    return f ? fs.readFileSync(f) : undefined;
  };
  const log = consoleLogger(args.options.has('verbose'), 'gx-bridge');
  const gw = new GxGateway({
    logger: log,
    dbus: { address: optString(args, 'dbus') ?? 'system' },
    engine: {
      portalId: optString(args, 'portal-id'),
      mode,
      writePolicy,
      timing: keepaliveSeconds ? { aliveMs: keepaliveSeconds * 1000 } : undefined,
    },
    broker: {
      url: broker,
      clientId: optString(args, 'client-id'),
      username: optString(args, 'username'),
      password: optString(args, 'password'),
      tls: { ca: file('ca'), cert: file('cert'), key: file('key'), rejectUnauthorized: !args.options.has('insecure') },
    },
  });
  let scanned: number | undefined;
  let portal: string | undefined;
  let announced = false;
  const maybeReady = () => {
    if (announced || scanned === undefined || portal === undefined) return;
    announced = true;
    process.stdout.write(`gx-bridge ready: D-Bus ${gw.tracker.address.label}, broker ${gw.link!.label}, ` +
      `portal ${portal}, ${scanned} services, ${gw.engine.cache.itemCount} items, mode ${mode}\n`);
  };
  gw.engine.on('scanned', (n: number) => { scanned = n; maybeReady(); });
  gw.link!.on('ready', (p: string) => { portal = p; maybeReady(); });
  gw.engine.on('state', (s: string, detail?: string) => log.info(`D-Bus ${s}${detail ? ': ' + detail : ''}`));
  let closing = false;
  const stop = (sig: string) => {
    if (closing) return;
    closing = true;
    log.info(`${sig}: closing`);
    gw.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  gw.start();
  if (!gw.engine.portalId) log.info('portal ID not set and /data/venus/unique-id not found: waiting for com.victronenergy.system /Serial');
}

main().catch((e: Error) => {
  process.stderr.write(`gx-bridge: ${e.message}\n`);
  process.exit(2);
});
