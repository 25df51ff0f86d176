// Flows saved before gx-config could reach a GX over MQTT keep working: each settings migration
// on its own (unit), the editor running the very same code (the script the runtime serves it),
// and a flows.json from before (test/fixtures/flows/flows-before-sources.json) deployed in the
// real runtime against the simulator: its gx-config nodes run as D-Bus sources, every node works.
import { after, afterEach, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as vm from 'vm';
import { CONFIG_VERSION, migrate, MIGRATIONS, versionOf } from '../../src/nodes/migrations';
import { editorScript } from '../../src/nodes/config-admin';
import { vrmMqttUrl } from '../../src/remote';
import { publish, Subscriber } from '../support/mosquitto';
import { waitUntil } from '../support/engine-fixture';
import { EssGx, ROOT, startEssGx } from '../support/ess-gx';
import { collect, helper, NODES, withAdminServer } from '../support/nr-helper';
const OLD_FLOW = path.join(ROOT, 'test', 'fixtures', 'flows', 'flows-before-sources.json');

/** A gx-config as the previous release saved it: no version, no source, no topic prefix. */
const v0 = () => ({
  id: '9a41c3e0d2b57f10', type: 'gx-config', name: 'My GX', dbusAddress: '192.168.1.20:78', portalId: 'c0619ab1f00d', mode: 'legacy',
  broker: 'mqtt://ha.local:1883', clientId: 'nr1', tls: '', writePolicy: 'patterns', writePatterns: 'vebus/+/Hub4/#', aliveSeconds: '60',
});

test('migration 1: a gx-config without a source reaches its GX over D-Bus, everything else as it was', () => {
  const m = MIGRATIONS.find((x) => x.version === 1)!;
  const old = v0();
  const up = m.up(old);
  assert.deepEqual(up, { ...v0(), source: 'dbus', topicPrefix: '' });
  assert.deepEqual(old, v0(), 'the input is not changed');
  assert.equal(m.up({ ...v0(), source: '' }).source, 'dbus', 'an empty source is D-Bus too');
  // a setting that is there already is kept (a hand-edited flow, a partial import)
  assert.equal(m.up({ ...v0(), source: 'lan' }).source, 'lan');
  assert.equal(m.up({ ...v0(), topicPrefix: 'victron/' }).topicPrefix, 'victron/');
});

test('migrate(): from the version the settings claim, step by step, to the current one; never backwards', () => {
  assert.equal(CONFIG_VERSION, MIGRATIONS[MIGRATIONS.length - 1].version);
  MIGRATIONS.forEach((m, i) => assert.equal(m.version, i + 1, 'one step per version, in order'));
  assert.equal(versionOf({}), 0);
  assert.equal(versionOf({ version: '1' }), 1, 'a version saved as text');
  assert.equal(versionOf({ version: 'x' }), 0);
  const now = migrate(v0());
  assert.equal(now.version, CONFIG_VERSION);
  assert.equal((now as Record<string, unknown>).source, 'dbus');
  assert.deepEqual(migrate(now), now, 'current settings are left as they are');
  const lan = { ...v0(), source: 'lan', gxUrl: 'mqtts://gx', version: CONFIG_VERSION };
  assert.deepEqual(migrate(lan), lan);
  const future = { ...v0(), version: CONFIG_VERSION + 5, somethingNew: 1 };
  assert.deepEqual(migrate(future), future, 'settings of a newer release are not touched');
});

test('the editor runs the same migrations and VRM broker names (the script the runtime serves it)', () => {
  const window: Record<string, any> = {};
  vm.runInNewContext(editorScript(), { window });
  const editor = window.GxConfigEditor;
  assert.equal(editor.migrations.CONFIG_VERSION, CONFIG_VERSION);
  assert.deepEqual(JSON.parse(JSON.stringify(editor.migrations.migrate(v0()))), migrate(v0()));
  assert.equal(editor.vrm.vrmMqttUrl('c0619ab1f00d'), vrmMqttUrl('c0619ab1f00d'));
  assert.equal(editor.vrm.vrmWebsocketUrl('c0619ab1f00d'), 'wss://webmqtt81.victronenergy.com/mqtt');
  assert.ok(!/sourceMappingURL/.test(editorScript()));
});

let ess: EssGx;

before(async () => {
  ess = await startEssGx();
});

afterEach(() => helper.unload());

after(() => ess?.stop());

test('a flows.json from before runs as it did: its gx-config nodes are D-Bus sources, notify, read, write, keep-alive and the broker work', async () => {
  const flow = JSON.parse(fs.readFileSync(OLD_FLOW, 'utf8')) as any[];
  const configs = flow.filter((n) => n.type === 'gx-config');
  assert.equal(configs.length, 2);
  for (const c of configs) {
    assert.equal(c.source, undefined, 'saved before there was a choice');
    assert.equal(c.version, undefined);
    // what the user's machine has: here the private bus (as NODE_RED_DBUS_ADDRESS would give) and the test broker
    c.dbusAddress = ess.bus.address;
    if (c.broker) c.broker = ess.broker.url;
  }
  const sub = await new Subscriber(ess.broker.port, ['N/#']).start();
  try {
    await withAdminServer(async () => {
      await helper.load(NODES, flow, { '9a41c3e0d2b57f11': { username: '', password: '' } });
      const byName = (type: string, name: string) => helper.getNode(flow.find((n) => n.type === type && n.name === name).id);
      const mine = byName('gx-config', 'My GX');
      const ha = byName('gx-config', 'GX to Home Assistant');
      const soc = collect(byName('debug', 'SoC'));
      const done = collect(byName('debug', 'full publish completed'));
      await waitUntil(() => mine.controller?.status?.text === 'connected' && ha.controller?.status?.text === 'connected', 10000, 'both connected');
      assert.equal(mine.controller.sourceKind, 'dbus');
      assert.equal(ha.controller.sourceKind, 'dbus');
      assert.equal(mine.controller.engine.writePolicy.mode, 'patterns', 'its write policy still applies');
      await waitUntil(() => soc.some((m) => m.topic === 'N/c0619ab1f00d/battery/256/Soc'), 5000, 'gx-notify');
      const settings = collect(byName('debug', 'settings'));
      byName('inject', 'read ESS settings').receive({ payload: 1 });
      await waitUntil(() => settings.length >= 4, 5000, 'gx-read');
      const results = collect(byName('debug', 'write result'));
      byName('inject', 'setpoint 30 W').receive({ payload: 30 });
      await waitUntil(() => results.length === 1, 5000, 'gx-write');
      assert.equal(results[0].payload.ok, true, results[0].payload.error);
      assert.equal(results[0].payload.confirmation, 'reply', 'D-Bus answered');
      assert.equal(ess.sim.service('com.victronenergy.settings')!.getValue('/Settings/CGwacs/AcPowerSetPoint')!.value, 30);
      // the bridged one: its gx-keepalive keeps it alive, the broker gets the whole GX
      await sub.waitFor((m) => m.topic === 'N/c0619ab1f00d/full_publish_completed', 10000);
      await waitUntil(() => done.length === 1, 5000, 'gx-keepalive reported it');
      await publish(ess.broker.port, 'W/c0619ab1f00d/settings/0/Settings/CGwacs/AcPowerSetPoint', '{"value": 31}');
      await waitUntil(() => ess.sim.service('com.victronenergy.settings')!.getValue('/Settings/CGwacs/AcPowerSetPoint')!.value === 31, 5000, 'W');
      // the editor's item list works for it
      const items = await helper.request().get(`/gx-config/${mine.id}/items?q=cgwacs`).expect(200);
      assert.ok(items.body.total >= 4);
    });
  } finally {
    await sub.stop();
  }
});
