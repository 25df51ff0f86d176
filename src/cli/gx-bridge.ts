#!/usr/bin/env node
// gx-bridge: the D-Bus ⇄ MQTT bridge without Node-RED. A drop-in for dbus-mqtt / dbus-flashmq
// on any Linux box, next to a GX that offers D-Bus over TCP, and what the benchmarks drive.
// With --gx it serves a GX reached over MQTT instead (its broker on the LAN, or VRM) on
// another broker, keeping that GX alive for you.
import * as fs from 'fs';
import { parseWritePatterns, WritePolicy } from '../bridge/write-policy';
import { GatewayOptions, GxGateway } from '../gateway';
import type { RemoteSourceOptions } from '../remote';
import { fetchServerCertificate } from '../remote/gx-certificate';
import { optNumber, optString, parseArgs } from './args';
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
  --gx-keepalive-seconds <n>   how often the GX is kept alive (default 30; its window is 60)
  --gx-stale-seconds <n>    nothing heard from the GX for this long: stale (default 10, VRM 30)
  --print-gx-cert <host[:port]>   print the certificate a GX's TLS port shows (PEM, to save for --gx-ca), and exit
  --portal-id <id>          portal ID (default: /data/venus/unique-id, else system /Serial; required with --gx)
  --mode flashmq|legacy     protocol behaviour (default flashmq = dbus-flashmq; legacy = dbus-mqtt)
  --username <u> --password <p>   broker credentials (or BROKER_USERNAME, BROKER_PASSWORD)
  --client-id <id>          MQTT client id
  --ca <file> --cert <file> --key <file>   TLS files for mqtts:// and wss://
  --insecure                do not verify the broker's TLS certificate
  --topic-prefix <p>        put <p> before every topic on the broker (victron/ → victron/N/…, victron/R/…)
  --write-policy all|none|patterns   --write-patterns 'vebus/+/Hub4/#,settings/0/Settings/CGwacs/#'
  --keepalive-seconds <n>   keep-alive window (default 60)
  --verbose                 debug logging`;

async function printGxCert(target: string): Promise<void> {
  const c = await fetchServerCertificate(target);
  process.stderr.write(`certificate of ${target}: ${c.subject}${c.selfSigned ? ' (self-signed)' : `, issued by ${c.issuer}`}, ` +
    `valid until ${c.validTo}\nSHA-256 fingerprint ${c.fingerprint256}\n`);
  process.stdout.write(c.pem);
}

function remoteTiming(keepaliveSeconds?: number, staleSeconds?: number): RemoteSourceOptions['timing'] {
  const t: RemoteSourceOptions['timing'] = {};
  if (keepaliveSeconds) {
    if (keepaliveSeconds >= 60) throw new Error('--gx-keepalive-seconds must be below the GX\'s 60 s window');
    t.intervalMs = keepaliveSeconds * 1000;
  }
  if (staleSeconds) t.staleMs = staleSeconds * 1000;
  return t;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), ['insecure', 'gx-insecure', 'verbose', 'help']);
  if (args.options.has('help')) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const certTarget = optString(args, 'print-gx-cert');
  if (certTarget) return printGxCert(certTarget);
  const env = process.env;
  const dbus = optString(args, 'dbus');
  const gx = optString(args, 'gx');
  if (!dbus === !gx) throw new Error(`give exactly one of --dbus (the GX's D-Bus; on the GX: --dbus system) and --gx (the GX over MQTT)\n${USAGE}`);
  const broker = optString(args, 'broker');
  if (!broker) throw new Error('--broker is required\n' + USAGE);
  const portalId = optString(args, 'portal-id');
  if (gx && !portalId) throw new Error('--gx needs --portal-id (the GX\'s VRM portal ID: Settings → VRM online portal)');
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
    : { dbus: { address: dbus } };
  const gw = new GxGateway({
    logger: log,
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
      username: optString(args, 'username') ?? env.BROKER_USERNAME,
      password: optString(args, 'password') ?? env.BROKER_PASSWORD,
      tls: { ca: file('ca'), cert: file('cert'), key: file('key'), rejectUnauthorized: !args.options.has('insecure') },
      topicPrefix: optString(args, 'topic-prefix'),
    },
  });
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
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  gw.start();
  if (!gw.engine.portalId) log.info('portal ID not set and /data/venus/unique-id not found: waiting for com.victronenergy.system /Serial');
}

main().catch((e: Error) => {
  process.stderr.write(`gx-bridge: ${e.message}\n`);
  process.exit(2); // bad arguments or settings: nothing was started
});
