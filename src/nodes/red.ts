// The small part of Node-RED's runtime API our nodes use, and the link from a palette node to
// its gx-config node.
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { GxConfigController, GxUser } from './config-controller';
import { NodeStatus, Status } from './status';

export type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow };

export type GxConfigNode = Node & { controller?: GxConfigController };

export interface PaletteDef extends NodeDef {
  server?: string;
}

/** The controller of the gx-config node a palette node names, if it is deployed. */
export function configOf(RED: NodeAPI, def: PaletteDef): GxConfigController | undefined {
  return def.server ? (RED.nodes.getNode(def.server) as GxConfigNode | null)?.controller : undefined;
}

/**
 * Registers a palette node with its gx-config node (status fan-out) and deregisters it on
 * close. Returns the controller, or undefined with a red status when there is no usable config
 * (imported flows without a config node must not crash Node-RED: node-red-contrib-victron#492).
 */
export function attachToConfig(RED: NodeAPI, node: Node, def: PaletteDef,
  onStatus?: (s: NodeStatus) => void): GxConfigController | undefined {
  const controller = configOf(RED, def);
  if (!controller) {
    node.status(Status.failed('no GX config'));
    node.error('no gx-config node selected (or it is disabled): open this node and choose a GX');
    return undefined;
  }
  if (!controller.engine) {
    node.status(Status.failed('config error'));
    node.error(`the gx-config node has an error: ${controller.configError}`);
    return undefined;
  }
  const user: GxUser = { id: node.id, status: onStatus ?? ((s) => node.status(s)) };
  controller.register(user);
  node.on('close', () => controller.deregister(user));
  return controller;
}

export function nodeLogger(node: Node) {
  return {
    debug: (m: string) => node.debug(m),
    info: (m: string) => node.log(m),
    warn: (m: string) => node.warn(m),
    error: (m: string) => node.error(m),
  };
}
