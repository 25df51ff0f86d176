// MQTT topic shapes of the protocol (spec N1, R1, R5–R7, W1, I7, K1).

export type RequestKind = 'R' | 'W';

export interface ItemAddress {
  /** short service type: 'battery', 'settings', … */
  type: string;
  /**
   * the full D-Bus name when the request gave one (`com.victronenergy.vebus.ttyS3` for the
   * type): it must be the name of the service that holds type/instance, or nothing is routed
   */
  busName?: string;
  /** device instance as it appears in topics: '256', or a text identifier (I2) */
  instance: string;
  /** absolute D-Bus object path, '/' for the whole service */
  path: string;
}

export type ParsedRequest =
  | { kind: RequestKind; portal: string; special: 'keepalive' }
  | { kind: RequestKind; portal: string; special?: undefined; target: ItemAddress; serialKeepalive: boolean };

export class TopicError extends Error {}

const SERVICE_PREFIX = 'com.victronenergy.';

/** Short service type of a D-Bus name (I1): `com.victronenergy.vebus.ttyO1` → `vebus`. */
export function shortServiceType(name: string): string {
  if (name.startsWith(SERVICE_PREFIX)) return name.slice(SERVICE_PREFIX.length).split('.')[0];
  return name;
}

const NAME_ELEMENT = /^[A-Za-z0-9_-]+$/;

/**
 * The type field of an R/W topic (or a flow's target), for reads and writes alike (I7, tightened):
 * - a short type: `vebus`;
 * - `com.victronenergy.<type>`, exactly, as dbus-flashmq accepts: `com.victronenergy.vebus`;
 * - a full D-Bus name, `com.victronenergy.vebus.ttyS3`: only the name of the service that holds
 *   that type/instance (checked when routing). dbus-flashmq routed any name by its third part,
 *   so `com.victronenergy.vebus.ttyUSB9.bogus/275` wrote to `com.victronenergy.vebus.ttyS3`.
 * Anything else is not a service type.
 */
export function requestType(field: string): { type: string; busName?: string } {
  if (NAME_ELEMENT.test(field)) return { type: field };
  if (field.startsWith(SERVICE_PREFIX)) {
    const parts = field.slice(SERVICE_PREFIX.length).split('.');
    if (parts.every((p) => NAME_ELEMENT.test(p))) return parts.length === 1 ? { type: parts[0] } : { type: parts[0], busName: field };
  }
  throw new TopicError(`'${field}' is not a service type (a short type such as vebus, com.victronenergy.vebus, or a service's full D-Bus name)`);
}

const PATH_ELEMENT = /^[A-Za-z0-9_]+$/;

/** D-Bus object path rules (dbus_validate_path): '/' or '/elem/elem' with [A-Za-z0-9_] elements. */
export function isValidObjectPath(p: string): boolean {
  if (p === '/') return true;
  if (p[0] !== '/' || p.endsWith('/')) return false;
  const parts = p.slice(1).split('/');
  return parts.every((e) => PATH_ELEMENT.test(e));
}

/**
 * Parses `R/<portal>/…` or `W/<portal>/…`. Throws TopicError with a reason for
 * anything that cannot be acted on.
 */
export function parseRequestTopic(topic: string): ParsedRequest {
  const parts = topic.split('/');
  const kind = parts[0];
  if (kind !== 'R' && kind !== 'W') throw new TopicError('not an R or W topic');
  if (parts.length < 2 || parts[1] === '') throw new TopicError('no portal ID in the topic');
  const portal = parts[1];
  if (parts.length === 3 && parts[2] === 'keepalive') return { kind, portal, special: 'keepalive' };
  if (parts.length < 5) throw new TopicError('expected <type>/<instance>/<path> after the portal ID');
  const [type, instance] = [parts[2], parts[3]];
  if (topic.includes('+') || topic.includes('#')) throw new TopicError('wildcards are not allowed in R/W topics');
  if (type === '' || instance === '') throw new TopicError('empty service type or instance');
  const { type: shortType, busName } = requestType(type);
  const rest = parts.slice(4).join('/');
  const path = '/' + rest;
  if (!isValidObjectPath(path)) throw new TopicError(`'${path}' is not a valid D-Bus object path`);
  return {
    kind,
    portal,
    target: busName ? { type: shortType, busName, instance, path } : { type: shortType, instance, path },
    serialKeepalive: kind === 'R' && shortType === 'system' && instance === '0' && path === '/Serial',
  };
}

/** `N/<portal>/<type>/<instance>` — the prefix of every item topic of a service. */
export function notificationPrefix(portal: string, type: string, instance: string): string {
  return `N/${portal}/${type}/${instance}`;
}

/** Topic filter matching with MQTT wildcards ('+' one level, '#' the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Checks a topic filter's syntax: '#' only last, wildcards alone in their level. */
export function isValidFilter(filter: string): boolean {
  if (filter === '') return false;
  const f = filter.split('/');
  return f.every((lvl, i) => (lvl === '#' ? i === f.length - 1 : lvl === '+' || !/[+#]/.test(lvl)));
}
