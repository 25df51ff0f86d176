#!/usr/bin/env node
// gx-bridge: the D-Bus ⇄ MQTT bridge without Node-RED. A drop-in for dbus-mqtt / dbus-flashmq
// on any Linux box, next to a GX that offers D-Bus over TCP, and what the benchmarks drive.
// With --gx it serves a GX reached over MQTT instead (its broker on the LAN, or VRM) on
// another broker, keeping that GX alive for you.
import { youngGenerationFree } from './small-heap';
import * as fs from 'fs';
import { limitLogger } from '../bridge/log-limiter';
import { parseWritePatterns, WritePolicy } from '../bridge/write-policy';
import { GatewayOptions, GxGateway } from '../gateway';
import { MqttVersion, redactUrl } from '../mqtt/broker-link';
import type { RemoteSourceOptions } from '../remote';
import { keepaliveSecondsProblem, staleSecondsProblem } from '../remote/timing-limits';
import { optChoice, optNumber, optString, OptionSpec, parseArgs, ParsedArgs, UsageError } from './args';
import { trimHeapAfterFloods } from './heap-trim';
import { consoleLogger } from './logger';

const USAGE = `usage: gx-bridge (--dbus <system|session|address|host:port> | --gx <url|vrm|vrm-ws>) --broker <url> [options]
  --dbus <address>          the GX's D-Bus: system, session, unix:…, tcp:…, or host:port (a GX's port 78)
  --gx <target>             or the GX over MQTT: mqtt://<gx> (1883), mqtts://<gx> (8883), ws://, wss://,
                            vrm (VRM over MQTT/TLS) or vrm-ws (VRM over websockets); needs --portal-id
  --gx-username <u>         the GX's broker user: your VRM e-mail address, or a pairing token's name
                            token/<role>/<id> (or GX_USERNAME)
  --gx-password <p>         its password: a pairing token's password, or 'Token <VRM token>' (or GX_PASSWORD)
  --vrm-token <t>           a VRM access token; the password becomes 'Token <t>' (or VRM_TOKEN)
  --gx-ca <file>            CA for the GX's broker (default: the Venus CA shipped in certs/venus-ca.crt)
  --gx-insecure             do not verify the GX's broker certificate
  --gx-keepalive-seconds <n>   how often the GX is kept alive: 1 to below 60 (default 30; its window is 60)
  --gx-stale-seconds <n>    nothing heard from the GX for this long: stale; 6 to 3600 (default 10, VRM 30)
  --print-gx-cert <host[:port]>   print the certificate a GX's TLS port shows (PEM, to save for --gx-ca), and exit
  --portal-id <id>          portal ID (default: /data/venus/unique-id, else system /Serial; required with --gx)
  --mode flashmq|legacy     protocol behaviour (default flashmq = dbus-flashmq; legacy = dbus-mqtt)
  --username <u> --password <p>   broker credentials (or BROKER_USERNAME, BROKER_PASSWORD)
  --client-id <id>          MQTT client id
  --mqtt-version auto|5|3.1.1   MQTT protocol (default auto: 5, or 3.1.1 if the broker refuses 5)
  --ca <file> --cert <file> --key <file>   TLS files for mqtts:// and wss://
  --insecure                do not verify the broker's TLS certificate
  --topic-prefix <p>        put <p> before every topic on the broker (victron/ → victron/N/…, victron/R/…)
  --write-policy all|none|patterns   --write-patterns 'vebus/+/Hub4/#,settings/0/Settings/CGwacs/#'
                            (--write-patterns needs --write-policy patterns)
  --keepalive-seconds <n>   keep-alive window (default 60)
  --log-limit <n>           warnings and errors logged per 10 s before the rest are counted only (default 20)
  --verbose                 debug logging`;

const OPTIONS: OptionSpec = {
  values: ['dbus', 'gx', 'gx-username', 'gx-password', 'vrm-token', 'gx-ca', 'gx-keepalive-seconds', 'gx-stale-seconds',
    'print-gx-cert', 'broker', 'portal-id', 'mode', 'username', 'password', 'client-id', 'mqtt-version',
    'ca', 'cert', 'key', 'topic-prefix', 'write-policy', 'write-patterns', 'keepalive-seconds', 'log-limit'],
  flags: ['insecure', 'gx-insecure', 'verbose', 'help'],
  short: { '-h': 'help' },
};

const MQTT_VERSIONS: Record<string, MqttVersion> = { auto: 'auto', '5': 5, '3.1.1': 4 };

async function printGxCert(target: string): Promise<void> {
  const { fetchServerCertificate } = await import('../remote/gx-certificate');
  const c = await fetchServerCertificate(target);
  process.stderr.write(`certificate of ${target}: ${c.subject}${c.selfSigned ? ' (self-signed)' : `, issued by ${c.issuer}`}, ` +
    `valid until ${c.validTo}\nSHA-256 fingerprint ${c.fingerprint256}\n`);
  process.stdout.write(c.pem);
}

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

function remoteTiming(keepaliveSeconds?: number, staleSeconds?: number): RemoteSourceOptions['timing'] {
  const t: RemoteSourceOptions['timing'] = {};
  if (keepaliveSeconds !== undefined) {
    const bad = keepaliveSecondsProblem(keepaliveSeconds);
    if (bad) throw new UsageError(`--gx-keepalive-seconds ${bad}, not ${keepaliveSeconds}`);
    t.intervalMs = keepaliveSeconds * 1000;
  }
  if (staleSeconds !== undefined) {
    const bad = staleSecondsProblem(staleSeconds);
    if (bad) throw new UsageError(`--gx-stale-seconds ${bad}, not ${staleSeconds}`);
    t.staleMs = staleSeconds * 1000;
  }
  return t;
}

type RunOptions = GatewayOptions & { verbose: boolean; logLimit: number };
type BridgeCommand = { kind: 'help' } | { kind: 'print-cert'; target: string } | { kind: 'run'; opts: RunOptions };

/** Reads the command line into gateway options; every mistake is a UsageError. */
function bridgeOptions(argv: string[], warn: (m: string) => void, env: NodeJS.ProcessEnv): BridgeCommand {
  const args = parseArgs(argv, OPTIONS);
  if (args.options.has('help')) return { kind: 'help' };
  const certTarget = optString(args, 'print-gx-cert');
  if (certTarget) return { kind: 'print-cert', target: certTarget };
  const dbus = optString(args, 'dbus');
  const gx = optString(args, 'gx');
  if ((dbus === undefined) === (gx === undefined)) {
    throw new UsageError('give exactly one of --dbus (the GX\'s D-Bus; on the GX: --dbus system) and --gx (the GX over MQTT)');
  }
  if (dbus !== undefined && dbus.trim() === '') throw new UsageError('--dbus must not be empty');
  const broker = optString(args, 'broker');
  if (!broker) throw new UsageError('--broker is required');
  if (!/^(mqtts?|wss?|tcp|ssl):\/\//.test(broker)) {
    throw new UsageError(`--broker must be an mqtt://, mqtts://, ws:// or wss:// URL, not '${redactUrl(broker)}'`);
  }
  const tls = /^(mqtts|wss|ssl):\/\//.test(broker);
  const portalId = optString(args, 'portal-id');
  if (portalId !== undefined && !/^[^/+#\s]+$/.test(portalId.trim())) {
    throw new UsageError(`--portal-id must be one topic level without '/', '+', '#' or spaces, not '${portalId}'`);
  }
  if (gx && !portalId) throw new UsageError('--gx needs --portal-id (the GX\'s VRM portal ID: Settings → VRM online portal)');
  const mode = optChoice(args, 'mode', ['flashmq', 'legacy'] as const, 'flashmq');
  const writePolicy = writePolicyOf(args);
  const keepaliveSeconds = optNumber(args, 'keepalive-seconds');
  if (keepaliveSeconds !== undefined && !(keepaliveSeconds > 0)) throw new UsageError('--keepalive-seconds must be more than 0');
  const username = optString(args, 'username') ?? env.BROKER_USERNAME;
  const password = optString(args, 'password') ?? env.BROKER_PASSWORD;
  if (password !== undefined && !username) throw new UsageError('--password needs --username');
  const tlsFiles = ['ca', 'cert', 'key'].filter((n) => args.options.has(n));
  if (tlsFiles.length && !tls) {
    throw new UsageError(`--${tlsFiles.join(', --')} given, but ${redactUrl(broker)} does not use TLS ` +
      '(use mqtts:// or wss://); refusing to send credentials in clear');
  }
  if (args.options.has('cert') !== args.options.has('key')) throw new UsageError('--cert and --key go together');
  if (args.options.has('insecure') && !tls) warn('--insecure has no effect: the broker URL does not use TLS');
  if (!gx) {
    const gxOnly = ['gx-username', 'gx-password', 'vrm-token', 'gx-ca', 'gx-keepalive-seconds', 'gx-stale-seconds', 'gx-insecure']
      .filter((n) => args.options.has(n));
    if (gxOnly.length) throw new UsageError(`--${gxOnly.join(', --')} only work with --gx`);
  }
  const file = (name: string) => {
    const f = optString(args, name);
    if (f === undefined) return undefined;
    try {
      return fs.readFileSync(f);
    } catch (e) {
      throw new UsageError(`--${name}: cannot read ${f}: ${(e as Error).message}`);
    }
  };
  const source: Pick<GatewayOptions, 'dbus' | 'remote'> = gx
    ? {
      remote: {
        gx,
        portalId: portalId!,
        username: optString(args, 'gx-username') ?? env.GX_USERNAME,
        password: optString(args, 'gx-password') ?? env.GX_PASSWORD,
        vrmToken: optString(args, 'vrm-token') ?? env.VRM_TOKEN,
        ca: file('gx-ca'),
        rejectUnauthorized: !args.options.has('gx-insecure'),
        timing: remoteTiming(optNumber(args, 'gx-keepalive-seconds'), optNumber(args, 'gx-stale-seconds')),
      },
    }
    : { dbus: { address: dbus! } };
  const versionText = optChoice(args, 'mqtt-version', ['auto', '5', '3.1.1'] as const, 'auto');
  const logLimit = optNumber(args, 'log-limit') ?? 20;
  if (!Number.isInteger(logLimit) || logLimit < 1) throw new UsageError('--log-limit must be a whole number of lines, at least 1');
  return {
    kind: 'run',
    opts: {
      verbose: args.options.has('verbose'),
      logLimit,
      ...source,
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
        topicPrefix: optString(args, 'topic-prefix'),
      },
    },
  };
}

async function main(): Promise<void> {
  const cmd = bridgeOptions(process.argv.slice(2), (m) => process.stderr.write(`gx-bridge: ${m}\n`), process.env);
  if (cmd.kind === 'help') {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (cmd.kind === 'print-cert') return printGxCert(cmd.target);
  const opts = cmd.opts;
  const mode = opts.engine!.mode;
  // the same flood limit as in Node-RED: a flood of bad requests is not a flood of log lines
  const log = limitLogger(consoleLogger(opts.verbose, 'gx-bridge'), opts.logLimit);
  let gw: GxGateway;
  try {
    gw = new GxGateway({ ...opts, logger: log });
  } catch (e) {
    throw new UsageError((e as Error).message); // settings that cannot work (a bad GX URL, VRM without a user): nothing started
  }
  let scanned: number | undefined;
  let portal: string | undefined;
  let announced = false;
  const maybeReady = () => {
    if (announced || scanned === undefined || portal === undefined) return;
    announced = true;
    process.stdout.write(`gx-bridge ready: ${gw.sourceLabel}, broker ${gw.link!.label}, ` +
      `portal ${portal}, ${scanned} services, ${gw.engine.cache.itemCount} items, mode ${mode}\n`);
  };
  gw.engine.on('scanned', (n: number) => { scanned = n; maybeReady(); });
  gw.link!.on('ready', (p: string) => { portal = p; maybeReady(); });
  const what = gw.remote ? 'GX' : 'D-Bus';
  gw.engine.on('state', (s: string, detail?: string) => log.info(`${what} ${s}${detail ? ': ' + detail : ''}`));
  let closing = false;
  const stop = (sig: string) => {
    if (closing) return;
    closing = true;
    log.info(`${sig}: closing`);
    gw.close().then(() => process.exit(0), () => process.exit(1));
  };
  // the broker turned out to be the GX's own (the gateway has stopped bridging and said why)
  gw.engine.once('loop', () => {
    if (closing) return;
    closing = true;
    log.error('nothing left to bridge: exiting');
    gw.close().then(() => process.exit(1), () => process.exit(1));
  });
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  youngGenerationFree(); // everything is loaded: from here the young generation grows with the work
  gw.start();
  trimHeapAfterFloods();
  if (!gw.engine.portalId) log.info('portal ID not set and /data/venus/unique-id not found: waiting for com.victronenergy.system /Serial');
}

main().catch((e: Error) => {
  const usage = e instanceof UsageError;
  process.stderr.write(`gx-bridge: ${e.message}\n${usage ? 'gx-bridge --help shows the options\n' : ''}`);
  process.exit(usage ? 2 : 1);
});
