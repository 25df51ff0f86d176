// Every example flow, imported as a user would, runs against the simulated ESS system
// (gx-config pointed at the private bus, and at a real mosquitto where the example bridges).
import { after, afterEach, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { publish, Broker, Subscriber } from '../support/mosquitto';
import { waitUntil } from '../support/engine-fixture';
import { ROOT, startEssGx, EssGx } from '../support/ess-gx';
import { collect, helper, NODES } from '../support/nr-helper';
import type { GxSimulator } from '../../src/sim';
import type { PrivateBus } from '../support/dbus-daemon';

const P = 'c0619ab1f00d';
let ess: EssGx;
let bus: PrivateBus;
let broker: Broker;
let sim: GxSimulator;

before(async () => {
  ess = await startEssGx();
  ({ bus, broker, sim } = ess);
});

afterEach(() => helper.unload());

after(() => ess?.stop());

function example(name: string): any[] {
  const flow = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', name), 'utf8')) as any[];
  for (const n of flow) {
    if (n.type === 'gx-config') {
      n.dbusAddress = bus.address;
      if (n.broker) n.broker = broker.url;
    } else {
      n.z = 'ex'; // as the editor's import puts them on the current tab
    }
  }
  return [{ id: 'ex', type: 'tab' }, ...flow];
}

const byName = (flow: any[], type: string, name?: string) => flow.find((n) => n.type === type && (name === undefined || n.name === name));

test('every example is importable: valid JSON, Windows-safe names, a comment, every palette node used', () => {
  const files = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 4);
  const used = new Set<string>();
  const ids = new Map<string, string>();
  for (const f of files) {
    assert.ok(!/[:*?"<>|]/.test(f), f);
    const flow = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', f), 'utf8')) as any[];
    const comments = flow.filter((n) => n.type === 'comment').map((n) => n.info as string).join('\n');
    assert.ok(comments.length > 0, `${f} explains itself`);
    for (const n of flow) {
      used.add(n.type);
      const json = JSON.stringify(n);
      // a config node shared by several examples is imported once (Node-RED keeps the one it has)
      assert.ok(!ids.has(n.id) || (n.type === 'gx-config' && ids.get(n.id) === json), `id ${n.id} is unique, or the same config node`);
      ids.set(n.id, json);
      if (n.type === 'gx-config') {
        assert.match(comments, new RegExp(`choose your config node under \\*GX\\*, then delete "${n.name.replace(/[()]/g, '\\$&')}"`),
          `${f} says what to do with its config node when the user has one`);
      }
    }
  }
  for (const t of ['gx-notify', 'gx-read', 'gx-write', 'gx-keepalive']) assert.ok(used.has(t), `${t} appears in an example`);
});

test('ess-setpoint: the setpoint is written and held by gx-write (repeat every 30 s, stop after 300 s); "GX control" ends the hold', async () => {
  const flow = example('ess-setpoint.json');
  const writer = byName(flow, 'gx-write', 'ESS grid setpoint');
  assert.deepEqual([writer.repeat, writer.hold], [30, 300], 'the keeper holds the setpoint, with the safety hold time');
  assert.equal(byName(flow, 'inject', 'every minute').repeat, '60', 'the flow computes the setpoint every minute, within the hold time');
  await helper.load(NODES, flow);
  const vebus = sim.service('com.victronenergy.vebus.ttyO1')!;
  const before = vebus.writes.length;
  const statuses: any[] = [];
  helper.getNode(writer.id).on('call:status', (c: any) => statuses.push(c.args[0]));
  await waitUntil(() => vebus.writes.slice(before).some((w) => w.path === '/Hub4/L1/AcPowerSetpoint' && w.result === 0), 8000,
    'a setpoint write (the inject fires 2 s after deploy)');
  await waitUntil(() => statuses.some((s) => /^hold 0 → \d\d:\d\d$/.test(s.text)), 2000, 'the node holds 0 W for 5 minutes');
  const results = collect(helper.getNode(byName(flow, 'debug', 'write result').id));
  // a target button writes at once (the function runs on a change of target too)
  helper.getNode(byName(flow, 'inject', 'export 1 kW').id).receive({ payload: Date.now() });
  await waitUntil(() => results.some((m) => m.payload.ok && m.payload.value === -1000));
  assert.equal(vebus.getValue('/Hub4/L1/AcPowerSetpoint')!.value, -1000);
  await waitUntil(() => statuses.some((s) => /^hold -1000 → /.test(s.text)));
  helper.getNode(byName(flow, 'inject', 'GX control').id).receive({ payload: Date.now() });
  await waitUntil(() => results.some((m) => m.payload.stopped === 1), 2000, 'the hold ends');
  // the ESS mode button writes settings through the write policy
  helper.getNode(byName(flow, 'inject', 'ESS mode 3 (external control)').id).receive({ payload: 3 });
  await waitUntil(() => results.some((m) => m.payload.path === '/Settings/CGwacs/Hub4Mode' && m.payload.ok));
  assert.equal(sim.service('com.victronenergy.settings')!.getValue('/Settings/CGwacs/Hub4Mode')!.value, 3);
});

test('read-settings: the ESS settings sub-tree and the whole system service', async () => {
  const flow = example('read-settings.json');
  await helper.load(NODES, flow);
  const out = collect(helper.getNode(byName(flow, 'debug', 'settings').id));
  const cfg = helper.getNode(byName(flow, 'gx-config').id);
  await waitUntil(() => cfg.controller?.status?.text === 'connected');
  helper.getNode(byName(flow, 'inject', 'read').id).receive({ payload: Date.now() });
  await waitUntil(() => out.length >= 4);
  assert.ok(out.every((m) => m.topic.startsWith(`N/${P}/settings/0/Settings/CGwacs/`)));
  helper.getNode(byName(flow, 'inject', 'read the whole system service').id).receive({ topic: 'system/0/', payload: 1 });
  await waitUntil(() => out.some((m) => m.topic === `N/${P}/system/0/Serial`));
});

test('low-soc-alert: a state of charge below 20 % reaches the alert', async () => {
  const flow = example('low-soc-alert.json');
  await helper.load(NODES, flow);
  const alerts = collect(helper.getNode(byName(flow, 'debug').id));
  const cfg = helper.getNode(byName(flow, 'gx-config').id);
  await waitUntil(() => cfg.controller?.status?.text === 'connected');
  sim.service('com.victronenergy.battery.ttyO0')!.setValue('/Soc', 15.5);
  await waitUntil(() => alerts.some((m) => m.payload === 15.5));
  sim.service('com.victronenergy.battery.ttyO0')!.setValue('/Soc', 60);
});

test('bridge-to-home-assistant: the config node speaks the protocol on the broker, kept alive by gx-keepalive', async () => {
  const sub = await new Subscriber(broker.port, [`N/${P}/#`]).start();
  try {
    const flow = example('bridge-to-home-assistant.json');
    await helper.load(NODES, flow);
    const done = collect(helper.getNode(byName(flow, 'debug').id));
    await sub.waitFor((m) => m.topic === `N/${P}/full_publish_completed`, 10000);
    assert.ok(sub.messages.filter((m) => m.topic.startsWith(`N/${P}/battery/256/`)).length >= 50, 'the whole system was published');
    await waitUntil(() => done.length === 1);
    assert.match(done[0].payload['full-publish-completed-echo'], /^[0-9a-f]{16}$/);
    // R and W from any MQTT client work through the config node
    sub.clear();
    await publish(broker.port, `R/${P}/settings/0/Settings/CGwacs/AcPowerSetPoint`, '');
    const r = await sub.waitFor((m) => m.topic === `N/${P}/settings/0/Settings/CGwacs/AcPowerSetPoint`);
    assert.match(r.payload, /^\{"max":1000000.0,"min":-1000000.0,"value":-?\d+\.\d+\}$/);
    await publish(broker.port, `W/${P}/settings/0/Settings/CGwacs/AcPowerSetPoint`, '{"value": 75}');
    await sub.waitFor((m) => m.topic === `N/${P}/settings/0/Settings/CGwacs/AcPowerSetPoint` && m.payload.includes('"value":75.0'));
  } finally {
    await sub.stop();
  }
});

test('the demo flow: its second GX config node reaches the simulated GX over the first one\'s broker and gets live values; its write is confirmed', async () => {
  const flow = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'demo', 'demo-flow.json'), 'utf8')) as any[];
  const configs = flow.filter((n) => n.type === 'gx-config');
  assert.deepEqual(configs.map((c) => c.source), ['dbus', 'lan']);
  const comment = flow.find((n) => n.type === 'comment' && /second GX config node/.test(n.name));
  assert.match(comment.info, /Node-RED not on the GX/, 'the comment points to the README');
  // what the demo does at every start (src/cli/demo.ts prepareFlow)
  for (const c of configs) {
    if (c.source === 'dbus') Object.assign(c, { dbusAddress: bus.address, broker: broker.url });
    else c.gxUrl = broker.url;
  }
  await helper.load(NODES, [{ id: 'demo', type: 'tab' }, ...flow.map((n) => (n.type === 'gx-config' ? n : { ...n, z: 'demo' }))]);
  const remote = helper.getNode(configs[1].id);
  const soc = collect(helper.getNode(byName(flow, 'debug', 'battery SoC over MQTT (%)').id));
  await waitUntil(() => remote.controller?.status?.text === 'connected', 20000, 'the second config node connected');
  assert.equal(remote.controller.sourceKind, 'lan');
  await waitUntil(() => soc.length > 0, 5000, 'a live value over MQTT');
  assert.equal(soc[0].topic, `N/${P}/battery/256/Soc`);
  assert.equal(soc[0].gx.service, 'com.victronenergy.battery.mqtt_256', 'from the GX over MQTT, not from D-Bus');
  sim.service('com.victronenergy.battery.ttyO0')!.setValue('/Soc', 33.5);
  await waitUntil(() => soc.some((m) => m.payload === 33.5), 5000, 'a change over MQTT');
  const results = collect(helper.getNode(byName(flow, 'debug', 'write result over MQTT').id));
  helper.getNode(byName(flow, 'inject', 'grid setpoint 50 W (over MQTT)').id).receive({ payload: 50 });
  await waitUntil(() => results.length === 1, 8000, 'the write result');
  assert.equal(results[0].payload.ok, true, results[0].payload.error);
  assert.equal(results[0].payload.confirmation, 'reply', 'the first config node answers on S/');
  assert.equal(sim.service('com.victronenergy.settings')!.getValue('/Settings/CGwacs/AcPowerSetPoint')!.value, 50);
});

test('every example file imports cleanly: unique node ids, every wire and scope names a node of the file', () => {
  const dir = path.join(ROOT, 'examples');
  const files = fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 5, files.join(', '));
  for (const f of files) {
    const flow = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Array<{ id: string; wires?: string[][]; scope?: string[] | null }>;
    const ids = flow.map((n) => n.id);
    const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
    assert.deepEqual(dupes, [], `${f}: node ids used twice`);
    const known = new Set(ids);
    for (const n of flow) {
      for (const target of (n.wires ?? []).flat()) assert.ok(known.has(target), `${f}: ${n.id} is wired to ${target}, which is not in the file`);
      for (const s of n.scope ?? []) assert.ok(known.has(s), `${f}: ${n.id} watches ${s}, which is not in the file`);
    }
  }
});
