#!/usr/bin/env node
// gx-bridge: the D-Bus ⇄ MQTT bridge without Node-RED. A drop-in for dbus-mqtt / dbus-flashmq
// on any Linux box, next to a GX that offers D-Bus over TCP, and what the benchmarks drive.
import * as fs from 'fs';
import { limitLogger } from '../bridge/log-limiter';
import { parseWritePatterns, WritePolicy } from '../bridge/write-policy';
import { GatewayOptions, GxGateway } from '../gateway';
import { MqttVersion, redactUrl } from '../mqtt/broker-link';
import { optChoice, optNumber, optString, OptionSpec, parseArgs, ParsedArgs, UsageError } from './args';
import { trimHeapAfterFloods } from './heap-trim';
import { consoleLogger } from './logger';

const USAGE = `usage: gx-bridge --dbus <system|session|address|host:port> --broker <url> [options]
  --portal-id <id>          portal ID (default: /data/venus/unique-id, else system /Serial)
  --mode flashmq|legacy     protocol behaviour (default flashmq = dbus-flashmq; legacy = dbus-mqtt)
  --username <u> --password <p>   broker credentials (a VRM token works as 'Token <token>')
  --client-id <id>          MQTT client id
  --mqtt-version auto|5|3.1.1   MQTT protocol (default auto: 5, or 3.1.1 if the broker refuses 5)
  --ca <file> --cert <file> --key <file>   TLS files for mqtts:// and wss://
  --insecure                do not verify the broker's TLS certificate
  --write-policy all|none|patterns   --write-patterns 'vebus/+/Hub4/#,settings/0/Settings/CGwacs/#'
                            (--write-patterns needs --write-policy patterns)
  --keepalive-seconds <n>   keep-alive window (default 60)
  --verbose                 debug logging`;

const OPTIONS: OptionSpec = {
  values: ['dbus', 'broker', 'portal-id', 'mode', 'username', 'password', 'client-id', 'mqtt-version',
    'ca', 'cert', 'key', 'write-policy', 'write-patterns', 'keepalive-seconds'],
  flags: ['insecure', 'verbose', 'help'],
  short: { '-h': 'help' },
};

const MQTT_VERSIONS: Record<string, MqttVersion> = { auto: 'auto', '5': 5, '3.1.1': 4 };

/** The write policy, refusing any combination that does not say clearly what may be written. */
function writePolicyOf(args: ParsedArgs): WritePolicy {
  const mode = optChoice(args, 'write-policy', ['all', 'none', 'patterns'] as const, 'all');
  const text = optString(args, 'write-patterns');
  if (text !== undefined && mode !== 'patterns') {
    throw new UsageError(`--write-patterns only works with --write-policy patterns (the policy is '${mode}'); ` +
      `add --write-policy patterns`);
  }
  if (mode !== 'patterns') return { mode };
  let patterns: string[];
  try {
    patterns = parseWritePatterns(text ?? '');
  } catch (e) {
    throw new UsageError(`--write-patterns: ${(e as Error).message}`);
  }
  if (patterns.length === 0) {
    throw new UsageError('--write-policy patterns needs --write-patterns with at least one filter ' +
      '(for no writes at all use --write-policy none)');
  }
  return { mode, patterns };
}

/** Reads the command line into gateway options; every mistake is a UsageError. */
function bridgeOptions(argv: string[], warn: (m: string) => void): (GatewayOptions & { verbose: boolean }) | undefined {
  const args = parseArgs(argv, OPTIONS);
  if (args.options.has('help')) return undefined;
  const broker = optString(args, 'broker');
  if (!broker) throw new UsageError('--broker is required');
  if (!/^(mqtts?|wss?|tcp|ssl):\/\//.test(broker)) {
    throw new UsageError(`--broker must be an mqtt://, mqtts://, ws:// or wss:// URL, not '${redactUrl(broker)}'`);
  }
  const tls = /^(mqtts|wss|ssl):\/\//.test(broker);
  const mode = optChoice(args, 'mode', ['flashmq', 'legacy'] as const, 'flashmq');
  const writePolicy = writePolicyOf(args);
  const keepaliveSeconds = optNumber(args, 'keepalive-seconds');
  if (keepaliveSeconds !== undefined && !(keepaliveSeconds > 0)) throw new UsageError('--keepalive-seconds must be more than 0');
  const portalId = optString(args, 'portal-id');
  if (portalId !== undefined && !/^[^/+#\s]+$/.test(portalId.trim())) {
    throw new UsageError(`--portal-id must be one topic level without '/', '+', '#' or spaces, not '${portalId}'`);
  }
  const dbus = optString(args, 'dbus') ?? 'system';
  if (dbus.trim() === '') throw new UsageError('--dbus must not be empty');
  const username = optString(args, 'username');
  const password = optString(args, 'password');
  if (password !== undefined && !username) throw new UsageError('--password needs --username');
  const tlsFiles = ['ca', 'cert', 'key'].filter((n) => args.options.has(n));
  if (tlsFiles.length && !tls) {
    throw new UsageError(`--${tlsFiles.join(', --')} given, but ${redactUrl(broker)} does not use TLS ` +
      '(use mqtts:// or wss://); refusing to send credentials in clear');
  }
  if (args.options.has('cert') !== args.options.has('key')) throw new UsageError('--cert and --key go together');
  if (args.options.has('insecure') && !tls) warn('--insecure has no effect: the broker URL does not use TLS');
  const file = (name: string) => {
    const f = optString(args, name);
    if (f === undefined) return undefined;
    try {
      return fs.readFileSync(f);
    } catch (e) {
      throw new UsageError(`--${name}: cannot read ${f}: ${(e as Error).message}`);
    }
  };
  const versionText = optChoice(args, 'mqtt-version', ['auto', '5', '3.1.1'] as const, 'auto');
  return {
    verbose: args.options.has('verbose'),
    dbus: { address: dbus },
    engine: {
      portalId,
      mode,
      writePolicy,
      timing: keepaliveSeconds ? { aliveMs: keepaliveSeconds * 1000 } : undefined,
    },
    broker: {
      url: broker,
      clientId: optString(args, 'client-id'),
      username,
      password,
      protocolVersion: MQTT_VERSIONS[versionText],
      tls: { ca: file('ca'), cert: file('cert'), key: file('key'), rejectUnauthorized: !args.options.has('insecure') },
    },
  };
}

async function main(): Promise<void> {
  const opts = bridgeOptions(process.argv.slice(2), (m) => process.stderr.write(`gx-bridge: ${m}\n`));
  if (!opts) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const mode = opts.engine!.mode;
  // the same flood limit as in Node-RED: a flood of bad requests is not a flood of log lines
  const log = limitLogger(consoleLogger(opts.verbose, 'gx-bridge'));
  const gw = new GxGateway({ ...opts, logger: log });
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
  trimHeapAfterFloods();
  if (!gw.engine.portalId) log.info('portal ID not set and /data/venus/unique-id not found: waiting for com.victronenergy.system /Serial');
}

main().catch((e: Error) => {
  const usage = e instanceof UsageError;
  process.stderr.write(`gx-bridge: ${e.message}\n${usage ? 'gx-bridge --help shows the options\n' : ''}`);
  process.exit(usage ? 2 : 1);
});
