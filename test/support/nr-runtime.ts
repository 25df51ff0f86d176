// node-red-node-test-helper with the real Node-RED runtime (node-red 4.1, as on Venus OS
// Large) and the Node-RED core nodes the tests and examples use, and nothing of ours:
// nr-helper.ts adds our node modules. Apart so that a process can run Node-RED without loading
// any of our code (bench: Node-RED's own footprint).
import * as path from 'path';

export const helper = require('node-red-node-test-helper') as NrHelper;
helper.init(require.resolve('node-red'));

export interface NrHelper {
  init(path: string, settings?: object): void;
  load(nodes: unknown[], flow: object[], credentials?: object): Promise<void>;
  setFlows(flow: object[], type: 'full' | 'nodes' | 'flows', credentials?: object): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): any;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  request(): any;
  settings(s: object): object;
  log(): any;
}

export const CORE_NODES = ['common/25-catch.js', 'common/21-debug.js', 'common/20-inject.js', 'common/90-comment.js', 'function/10-switch.js',
  'function/10-function.js', 'function/15-change.js']
  .map((f) => require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', f)));
