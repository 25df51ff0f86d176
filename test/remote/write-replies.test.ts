// How the remote source learns the outcome of a write when the GX sends no S/ reply (as
// dbus-flashmq does not): by the notification that shows the value. Against a broker that
// refuses the S/ subscription (aedes with a subscription check, as a strict broker might) and
// against one that grants it while nobody replies.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { startAedes } from '../support/aedes-broker';
import { waitUntil } from '../support/engine-fixture';
import { startGxBehindBroker, startRemoteEngine } from '../support/remote-gx';

const EDGE = 'com.victronenergy.edge.test0';
const write = (value: number) => ({ addr: { type: 'edge', instance: '7', path: '/Settable/Int' }, payload: `{"value":${value}}` });

test('S/ refused by the broker: writes are confirmed by notification, without waiting for a reply', async () => {
  const aedes = await startAedes({
    authorizeSubscribe: (_client, sub, done) => done(null, sub.topic.startsWith('S/') ? null : sub),
  });
  const broker = { port: aedes.port, url: aedes.url, stop: () => aedes.stop(), restart: async () => undefined };
  const gx = await startGxBehindBroker('sfused000001', ['remote-edge.json'], { broker });
  const remote = await startRemoteEngine(aedes.url, gx.portal, { timing: { replyGraceMs: 3000 } });
  try {
    await waitUntil(() => remote.logs.some((l) => l.includes('no write replies (S/sfused000001/# refused')), 5000, 'the refusal logged');
    assert.equal(remote.source.state, 'connected');
    const t0 = Date.now();
    const { addr, payload } = write(6);
    const r = await remote.engine.writeJson(addr, payload, 'flow');
    assert.equal(r.ok, true, r.error);
    assert.equal(r.confirmation, 'notification');
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms: no wait for a reply that cannot come`);
    assert.equal(gx.sim.service(EDGE)!.getValue('/Settable/Int')!.value, 6);
  } finally {
    await remote.close();
    await gx.close();
    await aedes.stop();
  }
});

test('S/ granted but no GX replies: the first write waits a moment for a reply, later ones do not', async () => {
  const gx = await startGxBehindBroker('snoreply0001', ['remote-edge.json']);
  const remote = await startRemoteEngine(gx.broker.url, gx.portal, { timing: { replyGraceMs: 3000 } });
  try {
    const times: number[] = [];
    for (const v of [11, 12, 13]) {
      const t0 = Date.now();
      const { addr, payload } = write(v);
      const r = await remote.engine.writeJson(addr, payload, 'flow');
      times.push(Date.now() - t0);
      assert.equal(r.ok, true, r.error);
      assert.equal(r.confirmation, 'notification');
      assert.equal(gx.sim.service(EDGE)!.getValue('/Settable/Int')!.value, v);
    }
    assert.ok(times[0] >= 3000, `first write ${times[0]} ms: waited for a reply`);
    assert.ok(times[1] < 3000 && times[2] < 3000, `later writes ${times.slice(1).join(', ')} ms: no more waiting`);
  } finally {
    await remote.close();
    await gx.close();
  }
});
