// Where a gx-config node reaches its GX, from the node's settings and credentials: its D-Bus
// (the system bus, host:port, any address), the GX's own MQTT broker on the LAN (with a
// password or a pairing token, TLS with the GX's own certificate pinned or a tls-config node),
// or VRM (portal ID, VRM e-mail address, access token). Checked here, with messages that say
// what to change in the form; the editor checks the same before Deploy.
import type { GatewayOptions } from '../gateway';
import type { TlsOptions } from '../mqtt/broker-link';
import type { RemoteSourceOptions } from '../remote';
import { vrmMqttUrl, vrmWebsocketUrl } from '../remote';
import { staleSecondsProblem } from '../remote/timing-limits';

export type SourceKind = 'dbus' | 'lan' | 'vrm';

export const SOURCE_KINDS: readonly SourceKind[] = ['dbus', 'lan', 'vrm'];

/** The settings of a gx-config node that say where its GX is. */
export interface SourceDef {
  /** 'dbus' (default: flows saved before there was a choice), 'lan' or 'vrm' */
  source?: string;
  /** dbus: the D-Bus address ('' = NODE_RED_DBUS_ADDRESS, else the system bus) */
  dbusAddress?: string;
  /** lan: the GX's broker, mqtt://<gx> (1883), mqtts://<gx> (8883), ws://<gx>:9001, wss://…; a bare address means mqtt:// */
  gxUrl?: string;
  /** lan with TLS: 'pinned' (default: the GX's own certificate, in gxCert) or 'tls-config' (the gxTls node) */
  gxCertMode?: string;
  /** lan with TLS, pinned: the GX's certificate (PEM); not a secret */
  gxCert?: string;
  /** lan with TLS: the id of a tls-config node */
  gxTls?: string;
  /** vrm: 'mqtts' (default, port 8883) or 'wss' (websockets, port 443) */
  vrmTransport?: string;
  /** the GX's portal ID: required over MQTT (the topics name it) */
  portalId?: string;
  /** over MQTT: nothing heard from the GX for this long makes it stale ('' = 10 s, VRM 30 s) */
  staleSeconds?: number | string;
}

/** The GX-side secrets, in Node-RED's credentials (never in the flow file). */
export interface SourceCredentials {
  /** lan: the broker user (a pairing token's name token/<role>/<id>, or any name with the GX's password) */
  gxUsername?: string;
  /** lan: a pairing token's password, or the GX's (security profile) password */
  gxPassword?: string;
  /** vrm: the VRM e-mail address */
  vrmEmail?: string;
  /** vrm: a VRM access token */
  vrmToken?: string;
}

/** What the runtime settings may change (settings.js `gxConfigVrmBrokerUrl`: a VRM proxy, or a test broker). */
export interface SourceOverrides {
  vrmBrokerUrl?: string;
}

/** The source kind of a node's settings: flows from before the choice have none and mean D-Bus. */
export function sourceKindOf(def: SourceDef): SourceKind {
  const s = (def.source ?? '').trim();
  if (s === '') return 'dbus';
  if ((SOURCE_KINDS as readonly string[]).includes(s)) return s as SourceKind;
  throw new Error(`the GX is reached over 'dbus', 'lan' or 'vrm', not '${s}': choose one under Connection`);
}

/** The D-Bus address to use: the node's, else NODE_RED_DBUS_ADDRESS (node-red-contrib-victron's variable), else the system bus. */
export function effectiveDbusAddress(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const c = (configured ?? '').trim();
  if (c) return c;
  return (env.NODE_RED_DBUS_ADDRESS ?? '').trim() || 'system';
}

/** A user name or password inside a URL (`mqtt://user:pass@host`). */
export function hasUrlCredentials(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url.trim());
}

/** mqtts:// and wss:// (the GX's port 8883, or websockets with TLS). */
export function isTlsUrl(url: string): boolean {
  return /^(mqtts|wss):\/\//i.test(url.trim());
}

/** The VRM broker an installation is served by, as the form shows it. */
export function vrmBrokerOf(portalId: string, transport: string | undefined): string {
  return transport === 'wss' ? vrmWebsocketUrl(portalId) : vrmMqttUrl(portalId);
}

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

function portalOf(def: SourceDef, where: string): string {
  const portal = (def.portalId ?? '').trim();
  if (!portal) {
    throw new Error(`a GX reached ${where} needs its Portal ID (on the GX: Settings → VRM online portal → VRM Portal ID): the topics name it`);
  }
  if (/[\s/+#]/.test(portal)) throw new Error(`'${portal}' is not a portal ID (no spaces, '/', '+' or '#')`);
  return portal;
}

function staleMsOf(def: SourceDef): number | undefined {
  const v = def.staleSeconds;
  if (v === undefined || String(v).trim() === '') return undefined;
  const s = Number(v);
  const bad = staleSecondsProblem(s);
  if (bad) throw new Error(`"Stale after" ${bad}, not '${v}'`);
  return s * 1000;
}

/**
 * The source part of the gateway's options. `gxTls`: what the node's tls-config node gives
 * (undefined when none is chosen or it is missing). Throws with what to change.
 */
export function sourceOptionsOf(def: SourceDef, creds: SourceCredentials, gxTls: TlsOptions | undefined,
  overrides: SourceOverrides = {}): Pick<GatewayOptions, 'dbus' | 'remote'> {
  const kind = sourceKindOf(def);
  if (kind === 'dbus') return { dbus: { address: effectiveDbusAddress(def.dbusAddress) } };
  const staleMs = staleMsOf(def);
  const timing: RemoteSourceOptions['timing'] = staleMs ? { staleMs } : {};
  if (kind === 'vrm') {
    const portalId = portalOf(def, 'through VRM');
    const email = (creds.vrmEmail ?? '').trim();
    const token = (creds.vrmToken ?? '').trim();
    if (!email || !token) {
      throw new Error('VRM needs your VRM e-mail address and a VRM access token (VRM → Preferences → Integrations → Access tokens) ' +
        'in the VRM e-mail and Access token fields');
    }
    const transport = (def.vrmTransport ?? '').trim() || 'mqtts';
    if (transport !== 'mqtts' && transport !== 'wss') throw new Error(`the VRM connection is 'mqtts' or 'wss', not '${transport}'`);
    return {
      remote: {
        gx: transport === 'wss' ? 'vrm-ws' : 'vrm', portalId, username: email, vrmToken: token,
        vrmUrl: overrides.vrmBrokerUrl?.trim() || undefined, timing,
      },
    };
  }
  const url = (def.gxUrl ?? '').trim();
  if (!url) {
    throw new Error("the GX's broker is missing: give mqtt://<gx-address> (port 1883) or mqtts://<gx-address> (port 8883, TLS) " +
      'under GX broker');
  }
  if (hasUrlCredentials(url)) {
    throw new Error("the GX's broker URL contains a user name or password: remove it from the URL and put it in the User and " +
      'Password fields (stored encrypted)');
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^(mqtts?|wss?):\/\//i.test(url)) {
    throw new Error(`the GX's broker must be mqtt://, mqtts://, ws:// or wss://, not '${url}'`);
  }
  const portalId = portalOf(def, 'over MQTT');
  const username = (creds.gxUsername ?? '').trim();
  const password = creds.gxPassword ?? '';
  if (password && !username) {
    throw new Error('a password needs a user name: the pairing token\'s name (token/<role>/<id>), or any name with the GX\'s own password');
  }
  const remote: RemoteSourceOptions = { gx: url, portalId, username: username || undefined, password: password || undefined, timing };
  if (isTlsUrl(url)) {
    const mode = (def.gxCertMode ?? '').trim() || 'pinned';
    if (mode === 'tls-config') {
      if (!def.gxTls) throw new Error("choose the TLS configuration for the GX's broker, or pin the GX's certificate instead");
      if (!gxTls) throw new Error(`the TLS configuration node of the GX's broker (${def.gxTls}) is missing or disabled`);
      Object.assign(remote, { ca: gxTls.ca, cert: gxTls.cert, key: gxTls.key, rejectUnauthorized: gxTls.rejectUnauthorized !== false });
    } else if (mode === 'pinned') {
      const pem = PEM.exec(def.gxCert ?? '');
      if (!pem) {
        throw new Error("the GX's own certificate is missing: Venus OS makes one per device (named venus.local) that no CA vouches for; " +
          'press "Fetch from the GX" in the GX config node (or paste it) to trust exactly that certificate');
      }
      remote.ca = (def.gxCert ?? '').trim();
    } else {
      throw new Error(`the GX's certificate is 'pinned' or 'tls-config', not '${mode}'`);
    }
  }
  return { remote };
}
