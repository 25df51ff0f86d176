// The small part of Node-RED's runtime API our nodes use, and the link from a palette node to
// its gx-config node.
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { GxConfigController, GxUser } from './config-controller';
import { NodeStatus, Status, StatusSink } from './status';

export type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow };

export type GxConfigNode = Node & { controller?: GxConfigController };

export interface PaletteDef extends NodeDef {
  server?: string;
}

/** The controller of the gx-config node a palette node names, if it is deployed. */
export function configOf(RED: NodeAPI, def: PaletteDef): GxConfigController | undefined {
  return def.server ? (RED.nodes.getNode(def.server) as GxConfigNode | null)?.controller : undefined;
}

/** Why a palette node cannot work with its config node, or undefined when it can. */
export function configProblem(RED: NodeAPI, def: PaletteDef): string | undefined {
  const controller = configOf(RED, def);
  if (!def.server) return 'no GX config node is selected: open this node and choose one under GX';
  if (!controller) return `its GX config node (${def.server}) is missing or disabled: open this node and choose one under GX`;
  if (!controller.engine) return `its GX config node has an error: ${controller.configError}`;
  return undefined;
}

export interface AttachOptions {
  /** the connection status, instead of showing it as it is */
  onStatus?: (s: NodeStatus) => void;
  /** the node's work depends on the broker, so it is shown the broker's state (gx-keepalive) */
  needsBroker?: boolean;
}

/**
 * Registers a palette node with its gx-config node (status fan-out) and deregisters it on
 * close. Returns the controller, or undefined with a red status and one error in the log
 * when there is no usable config (imported flows without a config node, a config node that
 * was deleted: node-red-contrib-victron#492). Messages to such a node go to done(err).
 */
export function attachToConfig(RED: NodeAPI, node: Node, def: PaletteDef, status: StatusSink,
  opts: AttachOptions = {}): GxConfigController | undefined {
  const problem = configProblem(RED, def);
  if (problem) {
    status.set(Status.failed(configOf(RED, def) ? 'config error' : 'no GX config'));
    node.error(problem);
    node.on('input', (_msg: unknown, _send: unknown, done: (e?: Error) => void) => done(new Error(problem)));
    return undefined;
  }
  const controller = configOf(RED, def)!;
  const user: GxUser = { id: node.id, status: opts.onStatus ?? ((s) => status.set(s)), needsBroker: opts.needsBroker };
  controller.register(user);
  node.on('close', () => controller.deregister(user));
  return controller;
}

/** The node's status, deduplicated (see StatusSink). */
export function statusOf(node: Node): StatusSink {
  return new StatusSink((s) => node.status(s));
}

export function nodeLogger(node: Node) {
  return {
    debug: (m: string) => node.debug(m),
    info: (m: string) => node.log(m),
    warn: (m: string) => node.warn(m),
    error: (m: string) => node.error(m),
  };
}

/** A checkbox as Node-RED stores it (true, or "true" in old flows). */
export function flag(v: unknown, dflt = false): boolean {
  return v === undefined || v === '' ? dflt : v === true || v === 'true';
}
