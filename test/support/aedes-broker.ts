// An embedded aedes broker (the demo's broker) on a free loopback port, for what mosquitto
// cannot be made to do, such as refusing a subscription with a failure SUBACK.
import * as net from 'net';
import { pathToFileURL } from 'url';
import type { Aedes, AedesOptions } from 'aedes';
import { freePort } from './processes';

// aedes 1.x is an ES module; TypeScript (CommonJS output) would turn import() into require().
const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<unknown>;

export interface AedesBroker {
  aedes: Aedes;
  port: number;
  url: string;
  stop(): Promise<void>;
}

export async function startAedes(opts: Partial<AedesOptions> = {}): Promise<AedesBroker> {
  const mod = await importEsm(pathToFileURL(require.resolve('aedes')).href) as typeof import('aedes');
  const aedes = await mod.Aedes.createBroker(opts);
  const server = net.createServer(aedes.handle);
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    aedes, port, url: `mqtt://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 3000);
      server.close();
      aedes.close(() => { clearTimeout(t); resolve(); });
    }),
  };
}
