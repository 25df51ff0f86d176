// Where a remote GX is reached and how: its broker on the LAN (mqtt://<gx>:1883, TLS on
// mqtts://<gx>:8883, websockets on :9001), with a password or a pairing token, or VRM's broker
// for the installation (mqtts://mqtt<N>.victronenergy.com:8883 or wss://webmqtt<N>…/mqtt) with
// the VRM e-mail address and `Token <access token>`. Plain options in, MQTT.js options out.
import * as tls from 'tls';
import type { IClientOptions } from 'mqtt';
import { venusCa } from './venus-ca';
import { vrmMqttUrl, vrmTokenPassword, vrmWebsocketUrl } from './vrm';

export interface RemoteGxOptions {
  /**
   * `vrm` (VRM over MQTT/TLS, port 8883), `vrm-ws` (VRM over websockets, port 443), or the GX's
   * broker: `mqtt://<gx>` (port 1883), `mqtts://<gx>` (8883), `ws://<gx>:9001`, `wss://…`. A
   * bare host name or address means `mqtt://<host>:1883`.
   */
  gx: string;
  /** the GX's portal ID (VRM portal ID); the broker host for VRM is derived from it */
  portalId: string;
  /** broker user: the VRM e-mail address, or a pairing token's name `token/<role>/<id>` */
  username?: string;
  /** broker password: a pairing token's password, `Token <VRM access token>`, or the GX's password */
  password?: string;
  /** a VRM access token; the password becomes `Token <token>` */
  vrmToken?: string;
  /** CA certificate(s) (PEM) for TLS; default: the Venus CA (and Node's public roots for VRM) */
  ca?: string | Buffer | Array<string | Buffer>;
  /** client certificate and key, if the broker wants them */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** verify the broker's certificate (default true) */
  rejectUnauthorized?: boolean;
  /** MQTT client ID (default: gx-bridge-remote-<random>) */
  clientId?: string;
  /**
   * with `vrm` / `vrm-ws`: this broker instead of the one derived from the portal ID (a proxy, a
   * test broker); the VRM rules (login, CA, stale time) still apply
   */
  vrmUrl?: string;
}

export interface ResolvedConnection {
  url: string;
  /** for logs and status: where, never credentials */
  label: string;
  vrm: boolean;
  tls: boolean;
  /** the CA was ours (the Venus CA), not one the user gave */
  defaultCa: boolean;
  mqtt: IClientOptions;
}

/** Venus OS gives its broker a self-made certificate named venus.local (meta-victronenergy start-flashmq). */
export const GX_CERT_NAME = 'venus.local';

export function resolveConnection(o: RemoteGxOptions): ResolvedConnection {
  const portal = (o.portalId ?? '').trim();
  if (!portal) throw new Error('the remote GX needs its portal ID (Settings → VRM online portal → VRM Portal ID)');
  if (/[/+#\s]/.test(portal)) throw new Error(`'${portal}' is not a portal ID`);
  const target = (o.gx ?? '').trim();
  let url: string;
  let vrm = false;
  if (target === 'vrm' || target === 'vrm-ws') {
    const override = (o.vrmUrl ?? '').trim();
    if (override && !/^(mqtts?|wss?):\/\/[^\s/]+/.test(override)) throw new Error(`'${redact(override)}' is not a broker URL for VRM`);
    url = override || (target === 'vrm' ? vrmMqttUrl(portal) : vrmWebsocketUrl(portal));
    vrm = true;
  } else if (/^(mqtts?|wss?):\/\//.test(target)) {
    url = target;
  } else if (/^[A-Za-z0-9.\-[\]:]+$/.test(target) && target !== '') {
    url = `mqtt://${target}`;
  } else {
    throw new Error(`'${redact(target)}' is not a GX: give vrm, vrm-ws, or mqtt://, mqtts://, ws://, wss:// with the GX's address`);
  }
  if (/\/\/[^/@]*@/.test(url)) throw new Error('put the credentials in the user name and password options, not in the URL');
  const secure = /^(mqtts|wss):/.test(url);
  const password = o.vrmToken ? vrmTokenPassword(o.vrmToken) : o.password;
  if (vrm && (!o.username || !password)) {
    throw new Error('VRM needs your VRM e-mail address as user name and an access token (password `Token <token>`)');
  }
  const userCa = o.ca !== undefined && (!Array.isArray(o.ca) || o.ca.length > 0);
  const ca = userCa ? o.ca : vrm ? [venusCa(), ...tls.rootCertificates] : [venusCa()];
  const rejectUnauthorized = o.rejectUnauthorized !== false;
  const mqttOpts: IClientOptions = {
    clientId: o.clientId || `gx-bridge-remote-${Math.random().toString(16).slice(2, 10)}`,
    username: o.username || undefined,
    password: password || undefined,
    protocolVersion: 4,
    clean: true,
    resubscribe: false, // subscribed again by us on every connect
    queueQoSZero: false, // nothing piles up while the broker is away
    reconnectPeriod: 1000,
    // MQTT.js stops for good after a refused login unless told otherwise; a token added on the
    // GX later, or VRM refusing for a while, must not need a restart
    reconnectOnConnackError: true,
    connectTimeout: 10000,
  };
  if (secure) {
    Object.assign(mqttOpts, {
      ca,
      cert: o.cert,
      key: o.key,
      rejectUnauthorized,
      // A GX's certificate names venus.local whatever its address; once the chain is trusted
      // (the CA the user gave, typically that very certificate), accept that name too.
      checkServerIdentity: vrm ? undefined : gxServerIdentity,
    });
  }
  const host = hostOf(url);
  const label = vrm ? `VRM ${host} (portal ${portal})` : `${url.replace(/^(\w+:\/\/[^/]+).*$/, '$1')} (portal ${portal})`;
  return { url, label, vrm, tls: secure, defaultCa: !userCa, mqtt: mqttOpts };
}

function gxServerIdentity(host: string, cert: tls.PeerCertificate): Error | undefined {
  const err = tls.checkServerIdentity(host, cert);
  if (!err) return undefined;
  return cert.subject?.CN === GX_CERT_NAME ? undefined : err;
}

function hostOf(url: string): string {
  return url.replace(/^\w+:\/\//, '').replace(/[/:].*$/, '');
}

function redact(s: string): string {
  return s.replace(/\/\/[^@/]*@/, '//');
}

/** A clearer reason for the usual TLS failures, saying what to do. */
export function explainTlsError(err: Error & { code?: string | number }, conn: ResolvedConnection): string {
  const code = typeof err.code === 'string' ? err.code : '';
  if (!conn.tls) return err.message;
  if ((code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'SELF_SIGNED_CERT_IN_CHAIN') && !conn.vrm && conn.defaultCa) {
    return `${err.message}: the GX's certificate is its own (Venus OS makes one per device, named ${GX_CERT_NAME}); ` +
      'save it once with `gx-bridge --print-gx-cert <gx-address>` and give that file as the CA (--gx-ca)';
  }
  if ((code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'SELF_SIGNED_CERT_IN_CHAIN') && !conn.vrm) {
    return `${err.message}: the GX's broker shows another certificate than the one given (pinned); a GX makes a new one ` +
      'when it is reset, and another device has its own. If you trust the change, save it again (Fetch from the GX in the ' +
      'gx-config node, `gx-bridge --print-gx-cert`) and compare its fingerprint with the GX\'s';
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `${err.message}: the certificate is not for this host name`;
  if (code.startsWith('UNABLE_TO_') || code === 'CERT_HAS_EXPIRED') return `${err.message} (${code}): the broker's certificate is not trusted by the CA given`;
  return err.message;
}
