// gx-config: one GX (reached over its D-Bus, over its MQTT broker on the LAN, or through VRM;
// its portal identity and the engine), optionally bridged to an MQTT broker. Palette nodes
// register with it. Settings saved by older releases are migrated first (migrations.ts).
import type { GxConfigCredentials, GxConfigDef, GxConfigTls } from '../../src/nodes/config-controller';
import { GxConfigNode, NodeAPI, NodeDef, nodeLogger } from '../../src/nodes/red';
import { TlsOptions } from '../../src/mqtt/broker-link';
import { listQueryOf } from '../../src/nodes/item-listing';
import { nodeLabels } from '../../src/nodes/node-label';
import { CONFIG_VERSION, migrate, versionOf } from '../../src/nodes/migrations';
import { editorScript, fetchGxCertificate } from '../../src/nodes/config-admin';

interface TlsConfigNode {
  addTLSOptions(opts: Record<string, unknown>): void;
}

type Def = NodeDef & GxConfigDef & { tls?: string };

export = function register(RED: NodeAPI): void {
  /** What a tls-config node gives (undefined when none is chosen, or it is missing). */
  function tlsOf(id: string | undefined): TlsOptions | undefined {
    if (!id) return undefined;
    const tlsNode = RED.nodes.getNode(id) as unknown as TlsConfigNode | null;
    if (!tlsNode) return undefined;
    const opts: Record<string, unknown> = {};
    tlsNode.addTLSOptions(opts);
    return opts as TlsOptions;
  }

  function GxConfig(this: GxConfigNode & { credentials: GxConfigCredentials }, saved: Def) {
    RED.nodes.createNode(this, saved);
    const def = migrate(saved);
    if (versionOf(saved) < CONFIG_VERSION) this.debug(`settings of version ${versionOf(saved)} taken as version ${def.version}`);
    const tls: GxConfigTls = { broker: tlsOf(def.tls), gx: tlsOf(def.gxTls) };
    const settings = RED.settings as unknown as { gxConfigVrmBrokerUrl?: unknown };
    const vrmBrokerUrl = typeof settings.gxConfigVrmBrokerUrl === 'string' ? settings.gxConfigVrmBrokerUrl : undefined;
    // loaded with the first gx-config node, not when Node-RED registers the palette: an
    // installed package that no flow uses costs Node-RED (on a GX) next to no memory
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { GxConfigController } = require('../../src/nodes/config-controller') as typeof import('../../src/nodes/config-controller');
    this.controller = new GxConfigController(def, this.credentials ?? {}, tls, nodeLogger(this), { vrmBrokerUrl });
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
    // the broker's login, and the GX's: a pairing token or the GX's password, or VRM's
    credentials: {
      username: { type: 'text' }, password: { type: 'password' },
      gxUsername: { type: 'text' }, gxPassword: { type: 'password' },
      vrmEmail: { type: 'text' }, vrmToken: { type: 'password' },
    },
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

  // The code the editor shares with the runtime (migrations, VRM broker of a portal ID). Static
  // and public, like the package's resources/ (which Node-RED serves without a login too).
  RED.httpAdmin.get('/gx-config/editor.js', (_req, res) => {
    res.type('application/javascript').send(editorScript());
  });

  // The certificate a GX's TLS port shows, for "Fetch from the GX" (pinning it): POST {url}.
  // Connects without verifying (that is the point: the user compares the fingerprint) and
  // only reads the certificate; it needs the right to change config nodes.
  RED.httpAdmin.post('/gx-config/gx-certificate', RED.auth.needsPermission('gx-config.write'), (req, res) => {
    const url = (req.body as { url?: unknown } | undefined)?.url;
    fetchGxCertificate(url).then((c) => res.json(c), (e: Error) => res.status(400).json({ error: e.message }));
  });
};
