// node-red-node-test-helper with the real Node-RED runtime (node-red 4.1, as on Venus OS
// Large) and our compiled node modules.
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { DIST } from './bridge-process';
import { waitUntil } from './engine-fixture';

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

export const NODES = ['gx-config', 'gx-notify', 'gx-read', 'gx-write', 'gx-keepalive']
  .map((t) => require(path.join(DIST, 'nodes', t, `${t}.js`)))
  // core nodes the tests and examples use
  .concat(['common/25-catch.js', 'common/21-debug.js', 'common/20-inject.js', 'common/90-comment.js', 'function/10-switch.js',
    'function/10-function.js', 'function/15-change.js']
    .map((f) => require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', f))));

/** Collects what a helper node receives. */
export function collect(node: any): any[] {
  const got: any[] = [];
  node.on('input', (msg: any) => got.push(msg));
  return got;
}

/** Waits until the gx-config node `id` reports "connected" and returns it. */
export async function connectedConfig(id = 'cfg', timeoutMs = 5000): Promise<any> {
  const c = helper.getNode(id);
  await waitUntil(() => c.controller?.status?.text === 'connected', timeoutMs, `gx-config ${id} connected`);
  return c;
}

/**
 * Every status node `id` shows from now on, each checked against the conventions: at most 20
 * characters, and never the same status twice in a row (Status nodes see each change once).
 */
export function statusesOf(id: string): any[] {
  const seen: any[] = [];
  helper.getNode(id).on('call:status', (c: any) => {
    const s = c.args[0];
    assert.ok((s.text ?? '').length <= 20, `status text at most 20 characters: '${s.text}'`);
    const prev = seen[seen.length - 1];
    assert.ok(!prev || prev.fill !== s.fill || prev.shape !== s.shape || prev.text !== s.text, `status repeated: ${JSON.stringify(s)}`);
    seen.push(s);
  });
  return seen;
}

/** The lines a node logs from now on, as "<level> <text>". */
export function linesOf(node: any, levels = ['warn', 'error']): string[] {
  const lines: string[] = [];
  for (const level of levels) node.on(`call:${level}`, (c: any) => lines.push(`${level} ${String(c.args[0])}`));
  return lines;
}

/** Runs fn with the helper's admin HTTP server up (helper.request()), unloading the flow after. */
export async function withAdminServer(fn: () => Promise<void>): Promise<void> {
  await helper.startServer();
  try {
    await fn();
  } finally {
    await helper.unload();
    await helper.stopServer();
  }
}
