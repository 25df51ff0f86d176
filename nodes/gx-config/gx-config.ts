// gx-config: one GX (a D-Bus connection, its portal identity and the engine), optionally
// bridged to an MQTT broker. Palette nodes register with it.
import type { GxConfigCredentials, GxConfigDef } from '../../src/nodes/config-controller';
import { GxConfigNode, NodeAPI, NodeDef, nodeLogger } from '../../src/nodes/red';
import { TlsOptions } from '../../src/mqtt/broker-link';
import { listQueryOf } from '../../src/nodes/item-listing';
import { nodeLabels } from '../../src/nodes/node-label';

interface TlsConfigNode {
  addTLSOptions(opts: Record<string, unknown>): void;
}

export = function register(RED: NodeAPI): void {
  function GxConfig(this: GxConfigNode & { credentials: GxConfigCredentials }, def: NodeDef & GxConfigDef & { tls?: string }) {
    RED.nodes.createNode(this, def);
    let tls: TlsOptions | undefined;
    if (def.tls) {
      const tlsNode = RED.nodes.getNode(def.tls) as unknown as TlsConfigNode | null;
      if (tlsNode) {
        const opts: Record<string, unknown> = {};
        tlsNode.addTLSOptions(opts);
        tls = opts as TlsOptions;
      }
    }
    // loaded with the first gx-config node, not when Node-RED registers the palette: an
    // installed package that no flow uses costs Node-RED (on a GX) next to no memory
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { GxConfigController } = require('../../src/nodes/config-controller') as typeof import('../../src/nodes/config-controller');
    this.controller = new GxConfigController(def, this.credentials ?? {}, tls, nodeLogger(this));
    this.on('close', (_removed: boolean, done: () => void) => {
      const c = this.controller;
      this.controller = undefined;
      (c ? c.close() : Promise.resolve()).then(() => done(), (e: Error) => {
        this.warn(`close: ${e.message}`);
        done();
      });
    });
  }
  RED.nodes.registerType('gx-config', GxConfig as never, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  } as never);

  // Live items for the editors' path picker (admin API, with permissions): ?q= filters on the
  // path, the value's text and the device's name; ?offset=&limit= page (default 100, at most
  // 1000); `total` counts every match. Masked settings are always "******" here.
  RED.httpAdmin.get('/gx-config/:id/items', RED.auth.needsPermission('gx-config.read'), (req, res) => {
    const node = RED.nodes.getNode(String(req.params.id)) as GxConfigNode | null;
    if (!node || !node.controller) {
      res.status(404).json({ error: 'this GX config node is not deployed' });
      return;
    }
    res.json(node.controller.listItems(listQueryOf(req.query as Record<string, unknown>)));
  });

  // The palette nodes' default labels from the path catalogue (no GX needed): ?p=<path>&p=…
  // → {"<path>": "Battery: State of charge" | null}. The editor asks once per path it draws.
  RED.httpAdmin.get('/gx-catalogue/labels', RED.auth.needsPermission('gx-config.read'), (req, res) => {
    res.json(nodeLabels((req.query as Record<string, unknown>).p));
  });
};
