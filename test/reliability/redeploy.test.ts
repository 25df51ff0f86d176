// Node-RED redeploys 100 times (full and modified-nodes deploys) and nodes are deleted while
// requests are in flight: no leaked D-Bus connections, timers, listeners or heap growth.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as v8 from 'v8';
import * as vm from 'vm';
import { Variant } from 'dbus-next';
import { GxSimulator } from '../../src/sim';
import { startPrivateBus, PrivateBus } from '../support/dbus-daemon';
import { RawService } from '../support/raw-service';
import { sleep, waitUntil } from '../support/engine-fixture';
import { helper, NODES } from '../support/nr-helper';
import { execFileSync } from 'child_process';

let bus: PrivateBus;
let sim: GxSimulator;
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const ROUNDS = Number(process.env.GX_REDEPLOYS ?? 100);

before(async () => {
  bus = await startPrivateBus();
  sim = new GxSimulator({ address: bus.address });
  await sim.addService({ name: 'com.victronenergy.system', paths: { '/Serial': new Variant('s', 'redeploy0001') } });
  await sim.addService({ name: 'com.victronenergy.battery.ttyO0', paths: { '/DeviceInstance': new Variant('u', 256), '/Soc': new Variant('d', 80) } });
});

after(async () => {
  await sim.stop();
  await bus.stop();
});

/** Connections on the bus (unique names), counted by the daemon itself. */
function busConnections(): number {
  const out = execFileSync('dbus-send', [`--bus=${bus.address}`, '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus',
    'org.freedesktop.DBus.ListNames']).toString();
  return (out.match(/string ":/g) ?? []).length;
}

const flow = (n: number) => [
  { id: 'f1', type: 'tab' },
  { id: 'cfg', type: 'gx-config', dbusAddress: bus.address },
  { id: 'n1', type: 'gx-notify', z: 'f1', server: 'cfg', filter: `battery/+/Soc`, name: `notify ${n}`, wires: [[]] },
  { id: 'r1', type: 'gx-read', z: 'f1', server: 'cfg', path: 'battery/256/Soc', wires: [[]] },
  { id: 'k1', type: 'gx-keepalive', z: 'f1', server: 'cfg', interval: 1, wires: [[]] },
];

test(`${ROUNDS} redeploys (full and modified nodes): no leaked connections, handles or heap`, async () => {
  const handles = () => (process as any)._getActiveHandles().length;
  const connectionsBefore = busConnections();
  const handlesBefore = handles();
  await helper.load(NODES, flow(0));
  await waitUntil(() => helper.getNode('cfg').controller?.status?.text === 'connected');
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  for (let i = 1; i <= ROUNDS; i++) {
    if (i % 2) {
      await helper.setFlows(flow(i), 'nodes'); // modified nodes only: the config node stays
    } else {
      await helper.setFlows(flow(i).map((n) => ({ ...n, name: `full ${i}` })), 'full'); // everything restarts
      await waitUntil(() => helper.getNode('cfg')?.controller?.status?.text === 'connected', 5000);
    }
    helper.getNode('r1').receive({});
    // the test helper's sinon spies keep every call (with its node) of every round: forget them,
    // or the heap measures the harness, not us
    (helper as unknown as { _sandbox: { resetHistory(): void } })._sandbox.resetHistory();
  }
  await sleep(300);
  assert.equal(helper.getNode('cfg').controller.userCount, 3, 'the config node knows exactly its current users');
  gc();
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  await helper.unload();
  await sleep(300);
  assert.equal(busConnections(), connectionsBefore, 'every D-Bus connection was closed');
  assert.ok(handles() <= handlesBefore + 1, `active handles ${handlesBefore} → ${handles()}`);
  assert.ok(heapGrowth < 8 * 1024 * 1024, `heap grew ${Math.round(heapGrowth / 1024)} kB over ${ROUNDS} deploys`);
});

test('a node deleted while its read is in flight: no crash, the read ends with an error, nothing leaks', async () => {
  const raw = new RawService('com.victronenergy.meteo.slow');
  raw.items = { '/DeviceInstance': { Value: new Variant('i', 4) }, '/Irradiance': { Value: new Variant('d', 100) } };
  await raw.connect(bus.address);
  // GetValue never answers (a hung driver)
  const connectionsBefore = busConnections();
  try {
    await helper.load(NODES, [
      { id: 'f1', type: 'tab' }, { id: 'cfg', type: 'gx-config', dbusAddress: bus.address },
      { id: 'r1', type: 'gx-read', z: 'f1', server: 'cfg', path: 'meteo/4/Irradiance', wires: [[]] },
      { id: 'c1', type: 'catch', z: 'f1', wires: [['h']] }, { id: 'h', type: 'helper', z: 'f1' },
    ]);
    await waitUntil(() => helper.getNode('cfg').controller?.status?.text === 'connected');
    (raw as any).bus._methodHandlers.unshift((msg: any) => msg.member === 'GetValue'); // swallow: never reply
    for (let i = 0; i < 20; i++) helper.getNode('r1').receive({ topic: `meteo/4/Irradiance` });
    await sleep(100);
    await helper.unload(); // deleted while 20 reads wait for D-Bus
    await sleep(300);
    assert.equal(busConnections(), connectionsBefore, 'the engine\'s connection is gone');
  } finally {
    raw.disconnect();
  }
});
