// Whether two broker URLs reach the same broker: the same host (names of this machine, such as
// localhost, 127.0.0.1, ::1 or one of its own addresses, count as one) and the same port
// (mqtt:// 1883, mqtts:// 8883, ws:// 80, wss:// 443 when none is given). A bridge whose broker
// is the GX's own broker, without a topic prefix, would loop: what it publishes there comes
// back to it as the GX's.
import * as os from 'os';

const DEFAULT_PORTS: Record<string, number> = { mqtt: 1883, tcp: 1883, mqtts: 8883, ssl: 8883, ws: 80, wss: 443 };

/** `host:port` of a broker URL, this machine's names as `local`; undefined for what is no URL. */
export function brokerEndpoint(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    return undefined;
  }
  const scheme = u.protocol.replace(/:$/, '').toLowerCase();
  const port = u.port ? Number(u.port) : DEFAULT_PORTS[scheme];
  if (port === undefined) return undefined;
  const host = u.hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return `${isThisMachine(host) ? 'local' : host}:${port}`;
}

export function sameBroker(a: string, b: string): boolean {
  const ea = brokerEndpoint(a);
  return ea !== undefined && ea === brokerEndpoint(b);
}

function isThisMachine(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '::1' || host === '0.0.0.0' || host === '::') return true;
  if (host === os.hostname().toLowerCase()) return true;
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.address.toLowerCase() === host) return true;
  }
  return false;
}
