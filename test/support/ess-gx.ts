// The simulated ESS system of the demo and the examples (test/fixtures/scenarios/ess-gx.json) on a
// private bus, with a real mosquitto beside it for the config nodes that bridge to a broker.
import * as path from 'path';
import { GxSimulator, loadFile } from '../../src/sim';
import { DIST } from './bridge-process';
import { startPrivateBus, PrivateBus } from './dbus-daemon';
import { startMosquitto, Broker } from './mosquitto';

export const ROOT = path.join(DIST, '..');

export interface EssGx {
  bus: PrivateBus;
  broker: Broker;
  sim: GxSimulator;
  stop(): Promise<void>;
}

export async function startEssGx(): Promise<EssGx> {
  const bus = await startPrivateBus();
  const broker = await startMosquitto();
  const sim = new GxSimulator({ address: bus.address });
  for (const def of loadFile(path.join(ROOT, 'test', 'fixtures', 'scenarios', 'ess-gx.json'))) await sim.addService(def);
  return {
    bus, broker, sim,
    async stop() {
      await sim.stop();
      await broker.stop();
      await bus.stop();
    },
  };
}
