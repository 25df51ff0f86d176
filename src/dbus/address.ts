// D-Bus addresses as users write them: 'system' (default), 'session', any D-Bus address
// ('unix:path=…', 'tcp:host=…,port=…'), or node-red-contrib-victron's 'host:port' form
// (a GX offers D-Bus over TCP on port 78 with ANONYMOUS authentication).

export interface BusAddress {
  /** the D-Bus address string to connect to */
  address: string;
  /** authentication mechanisms to offer, in order */
  authMethods: string[];
  /** what the user asked for, for messages */
  label: string;
}

const DEFAULT_SYSTEM = 'unix:path=/var/run/dbus/system_bus_socket';
const LOCAL_AUTH = ['EXTERNAL', 'DBUS_COOKIE_SHA1', 'ANONYMOUS'];

export function resolveBusAddress(spec: string | undefined, env: NodeJS.ProcessEnv = process.env): BusAddress {
  const s = (spec ?? '').trim();
  if (s === '' || s === 'system') {
    const address = env.DBUS_SYSTEM_BUS_ADDRESS || DEFAULT_SYSTEM;
    return { address, authMethods: authFor(address), label: 'system bus' };
  }
  if (s === 'session') {
    const address = env.DBUS_SESSION_BUS_ADDRESS;
    if (!address) throw new Error('the session bus was asked for, but DBUS_SESSION_BUS_ADDRESS is not set');
    return { address, authMethods: authFor(address), label: 'session bus' };
  }
  if (/^(unix|tcp|nonce-tcp):/.test(s)) return { address: s, authMethods: authFor(s), label: s };
  const m = /^\[?([A-Za-z0-9.\-:]+?)\]?:(\d{1,5})$/.exec(s);
  if (m) {
    const port = Number(m[2]);
    if (port < 1 || port > 65535) throw new Error(`invalid port in D-Bus address '${s}'`);
    const address = `tcp:host=${m[1]},port=${port}`;
    return { address, authMethods: ['ANONYMOUS'], label: address };
  }
  throw new Error(`not a D-Bus address: '${s}' (use system, session, unix:path=…, tcp:host=…,port=… or host:port)`);
}

function authFor(address: string): string[] {
  return address.startsWith('tcp:') || address.startsWith('nonce-tcp:') ? ['ANONYMOUS', 'EXTERNAL'] : LOCAL_AUTH;
}
