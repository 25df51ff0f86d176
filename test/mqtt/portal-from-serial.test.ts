// gx-bridge without --portal-id and without /data/venus/unique-id learns the portal ID from
// com.victronenergy.system /Serial (N9), whichever way round the services appear, in both
// modes; legacy mode once died here at start-up (issue 14 item 16).
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { Variant } from 'dbus-next';
import { GxSimulator } from '../../src/sim';
import { startPrivateBus, PrivateBus } from '../support/dbus-daemon';
import { publish, startMosquitto, Broker, Subscriber } from '../support/mosquitto';
import { DIST } from '../support/bridge-process';
import { startProcess, stopProcess } from '../support/processes';
import { sleep, waitUntil } from '../support/engine-fixture';

const onGx = fs.existsSync('/data/venus/unique-id') ? 'this machine has /data/venus/unique-id' : false;

let bus: PrivateBus;
let broker: Broker;

before(async () => {
  bus = await startPrivateBus();
  broker = await startMosquitto();
});

after(async () => {
  await broker?.stop();
  await bus?.stop();
});

const battery = () => ({ name: 'com.victronenergy.battery.ttyO0', paths: { '/DeviceInstance': new Variant('u', 256), '/Soc': new Variant('d', 80) } });
const system = (serial: string) => ({ name: 'com.victronenergy.system', paths: { '/Serial': new Variant('s', serial), '/Dc/Battery/Soc': new Variant('d', 80) } });

type Order = 'system after the others' | 'system first' | 'nothing at start, then battery, then system' | 'system /Serial invalid at first, set later';

for (const mode of ['flashmq', 'legacy'] as const) {
  for (const order of ['system after the others', 'system first', 'nothing at start, then battery, then system',
    'system /Serial invalid at first, set later'] as Order[]) {
    test(`${mode}: no portal ID given, ${order}: the portal comes from system /Serial and the bridge serves`, { skip: onGx }, async () => {
      const P = `${mode === 'legacy' ? 'leg' : 'fmq'}${order.length}serial`.slice(0, 12).padEnd(12, '0');
      const sim = new GxSimulator({ address: bus.address });
      if (order === 'system first') await sim.addService(system(P));
      if (order !== 'nothing at start, then battery, then system') await sim.addService(battery());
      const proc = await startProcess(process.execPath, [path.join(DIST, 'src', 'cli', 'gx-bridge.js'),
        '--dbus', bus.address, '--broker', broker.url, '--mode', mode],
      (out) => out.includes('gx-bridge ready') || out.includes('waiting for com.victronenergy.system /Serial'), { timeoutMs: 20000 });
      try {
        if (order === 'nothing at start, then battery, then system') await sim.addService(battery());
        if (order === 'system /Serial invalid at first, set later') {
          await sim.addService({ name: 'com.victronenergy.system', paths: { '/Serial': { type: 's', value: null }, '/Dc/Battery/Soc': new Variant('d', 80) } });
          const sys = sim.service('com.victronenergy.system')!;
          await waitUntil(() => (sys.calls.GetItems ?? 0) > 0, 5000, 'the scan of the system service');
          await sleep(300); // its reply has reached the bridge: /Serial is a change, not part of the scan
          assert.doesNotMatch(proc.output(), /gx-bridge ready/);
          sys.setValue('/Serial', P);
        } else if (order !== 'system first') {
          await sim.addService(system(P));
        }
        await waitUntil(() => proc.output().includes('gx-bridge ready'), 10000, 'ready');
        assert.match(proc.output(), new RegExp(`portal ID ${P} \\(from com.victronenergy.system /Serial\\)`));
        assert.match(proc.output(), new RegExp(`gx-bridge ready: .*portal ${P}, .*mode ${mode}`));
        const sub = await new Subscriber(broker.port, [`N/${P}/#`], true).start();
        try {
          await waitUntil(() => sub.messages.some((m) => m.topic === `N/${P}/system/0/Serial` && m.retain), 5000, 'the retained serial');
          await publish(broker.port, `R/${P}/keepalive`, '');
          const soc = await sub.waitFor((m) => m.topic === `N/${P}/battery/256/Soc`);
          assert.equal(soc.payload, mode === 'legacy' ? '{"value": 80.0}' : '{"value":80.0}');
        } finally {
          await sub.stop();
        }
        assert.equal(proc.proc.exitCode, null, 'still running');
        assert.doesNotMatch(proc.output(), /TypeError|Error: /);
      } finally {
        await stopProcess(proc.proc);
        await sim.stop();
        await publish(broker.port, `N/${P}/system/0/Serial`, '', { retain: true });
        await publish(broker.port, `N/${P}/keepalive`, '', { retain: true });
      }
    });
  }
}
