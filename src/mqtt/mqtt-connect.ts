// MQTT.js clients for mqtt:// and mqtts:// without MQTT.js's connect(): that one loads the
// stream builders of every transport on the first connection (websockets, SOCKS, …), some
// 5 MiB of resident memory a bridge on a GX has no use for. Here MqttClient gets a plain TCP
// or TLS stream built as MQTT.js's own tcp/tls builders build it; anything else (ws://, wss://,
// a SOCKS proxy, unix sockets) goes to mqtt.connect(), loaded only then.
// MQTT.js's number cache (writeCache) is off: 65 536 two-byte Buffers, 6 MiB of heap, for
// packet ids and lengths of the few packets MQTT.js writes for us (our PUBLISHes are our own).
import * as net from 'net';
import type * as tls from 'tls';
import type { IClientOptions, MqttClient } from 'mqtt';

type ClientOptions = IClientOptions;

/** Parsed from the broker URL as mqtt.connect() takes it. */
interface Target {
  secure: boolean;
  host: string;
  port: number;
}

function targetOf(url: string, opts: ClientOptions): Target | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const scheme = u.protocol.replace(/:$/, '');
  let secure: boolean;
  if (scheme === 'mqtt' || scheme === 'tcp') secure = !!(opts.cert && opts.key); // MQTT.js: a client certificate means TLS
  else if (scheme === 'mqtts' || scheme === 'ssl' || scheme === 'tls') secure = true;
  else return undefined;
  if (!u.hostname || u.pathname.length > 1 || u.search || u.username || u.password) return undefined; // MQTT.js's own handling
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return { secure, host, port: u.port ? Number(u.port) : secure ? 8883 : 1883 };
}

/**
 * An MQTT.js client connecting to `url` (reconnecting as MQTT.js does). Options are MQTT.js's;
 * `writeCache` defaults to false.
 */
export function connectMqtt(url: string, options: ClientOptions): MqttClient {
  const opts: ClientOptions = { writeCache: false, ...options };
  const target = process.env.MQTTJS_SOCKS_PROXY || opts.socksProxy ? undefined : targetOf(url, opts);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only for other transports
  if (!target) return (require('mqtt') as typeof import('mqtt')).connect(url, opts);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- MqttClient without every transport's builder
  const Client = (require('mqtt/lib/client') as { default: new (build: (c: MqttClient) => net.Socket, o: ClientOptions) => MqttClient }).default;
  const clientOpts: ClientOptions = { ...opts, host: target.host, hostname: target.host, port: target.port, protocol: target.secure ? 'mqtts' : 'mqtt' };
  const build = target.secure ? (c: MqttClient) => tlsStream(c, target, opts) : () => net.createConnection({ host: target.host, port: target.port });
  const client = new Client(build, clientOpts);
  client.on('error', () => undefined); // as mqtt.connect(): an error without a listener of ours never throws
  return client;
}

/** As MQTT.js's tls builder: SNI for host names, and a TLS error ends the connection (and is the client's error when verifying). */
function tlsStream(client: MqttClient, target: Target, opts: ClientOptions): net.Socket {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- only for mqtts://
  const tlsModule = require('tls') as typeof tls;
  const rejectUnauthorized = opts.rejectUnauthorized !== false;
  const servername = opts.servername || (net.isIP(target.host) === 0 ? target.host : undefined);
  const { host: _h, port: _p, hostname: _n, protocol: _q, ...rest } = opts;
  const connection = tlsModule.connect({ ...(rest as tls.ConnectionOptions), host: target.host, port: target.port, servername, rejectUnauthorized });
  const onError = (err: Error) => {
    if (rejectUnauthorized) client.emit('error', err);
    connection.end();
  };
  connection.on('secureConnect', () => {
    if (rejectUnauthorized && !connection.authorized) connection.emit('error', new Error('TLS not authorized'));
    else connection.removeListener('error', onError);
  });
  connection.on('error', onError);
  return connection;
}
