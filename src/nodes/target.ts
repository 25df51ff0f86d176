// Which item a flow message means: the path configured in the node; only when that is empty,
// `msg.topic` as `R/<portal>/…`, `W/<portal>/…`, `N/<portal>/…` or `<type>/<instance>/<path>`.
// (Node-RED's rule: a property set in the node wins, msg fills in only what is left empty. A
// gx-notify → function → gx-write chain keeps the notification's topic; it must not redirect
// the write.)
import { isValidObjectPath, ItemAddress, requestType } from '../bridge/topics';

export class TargetError extends Error {}

export function parseTarget(text: string, portal: string | undefined): ItemAddress {
  let t = text.trim();
  const m = /^([RWN])\/([^/]+)\/(.*)$/.exec(t);
  if (m) {
    if (portal && m[2] !== portal) throw new TargetError(`portal ID '${m[2]}' in '${text}' is not this GX's (${portal})`);
    t = m[3];
  }
  const parts = t.split('/');
  if (parts.length < 3 || parts[0] === '' || parts[1] === '') {
    throw new TargetError(`'${text}' is not <type>/<instance>/<path> (e.g. battery/256/Soc, or battery/256/ for the whole service)`);
  }
  if (/[+#]/.test(t)) throw new TargetError(`'${text}': wildcards are not allowed here`);
  const path = '/' + parts.slice(2).join('/');
  if (!isValidObjectPath(path)) throw new TargetError(`'${path}' is not a valid D-Bus object path`);
  let type;
  try {
    type = requestType(parts[0]);
  } catch (e) {
    throw new TargetError((e as Error).message);
  }
  return { ...type, instance: parts[1], path };
}

/** The target of a message: the configured path, else msg.topic when it names an item. */
export function targetOf(msgTopic: unknown, configured: string | undefined, portal: string | undefined): ItemAddress {
  if (typeof configured === 'string' && configured.trim() !== '') return parseTarget(configured, portal);
  if (typeof msgTopic === 'string' && msgTopic.trim() !== '') return parseTarget(msgTopic, portal);
  if (msgTopic !== undefined && msgTopic !== null && msgTopic !== '') {
    throw new TargetError(`msg.topic must be a string <type>/<instance>/<path>, not ${describe(msgTopic)}`);
  }
  throw new TargetError('no item: set a path in the node, or send msg.topic as <type>/<instance>/<path>');
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (Buffer.isBuffer(v)) return 'a Buffer';
  return `a ${typeof v === 'object' ? 'object' : typeof v}`;
}
