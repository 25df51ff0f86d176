// A GX has more services than the bound on calls one peer may leave unanswered (16): on
// connecting, every one of them is looked up and scanned, none left out.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { syntheticSystem } from '../../src/sim';
import { startEngineFixture } from '../support/engine-fixture';

test('40 services on the bus before the engine connects: every one is scanned', async () => {
  const fx = await startEngineFixture({ beforeStart: (sim) => sim.addServices(syntheticSystem(40, 5)).then(() => undefined) });
  try {
    const names = [...fx.engine.cache.services.keys()].filter((n) => n.startsWith('com.victronenergy.synthetic.'));
    assert.equal(names.length, 40, `scanned: ${names.length} of 40`);
    assert.equal(fx.logs.filter((l) => l.includes('left before it could be scanned')).length, 0, fx.logs.join('\n'));
  } finally {
    await fx.close();
  }
});
