// The remote source and the engine over it against a dbus-flashmq-like GX (test/support/fake-gx.ts)
// on a real mosquitto: what only such a GX shows, or shows more simply than the simulator behind
// our own gx-bridge does.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { waitUntil } from '../support/engine-fixture';
import { FakeGx } from '../support/fake-gx';
import { startMosquitto } from '../support/mosquitto';
import { startRemoteEngine } from '../support/remote-gx';

const MAPPING = 'system/0/ServiceMapping/com_victronenergy_vebus_257';

test('bus names from the GX\'s ServiceMapping, learnt whenever it tells them: full names route only while known, and only the exact one', async () => {
  const P = 'fakenames001';
  const a = await startMosquitto();
  const fake = await new FakeGx({ portal: P, items: { 'vebus/257/Mode': '{"value":3}' } }).start(a.url);
  const remote = await startRemoteEngine(a.url, P);
  try {
    const full = (bus: string) => ({ type: 'vebus', busName: bus, instance: '257', path: '/Mode' });
    const write = (bus: string, v: number) => remote.engine.writeJson(full(bus), `{"value":${v}}`, 'flow');
    const before = await write('com.victronenergy.vebus.ttyO1', 2);
    assert.equal(before.ok, false);
    assert.match(before.error!, /the GX has not told the bus name of vebus\/257 \(system\/0\/ServiceMapping\); use vebus\/257/);
    // the GX tells it later (a new service, or systemcalc catching up)
    fake.set(MAPPING, '{"value":"com.victronenergy.vebus.ttyO1"}');
    await waitUntil(() => remote.engine.cache.route('vebus', '257')!.busName === 'com.victronenergy.vebus.ttyO1', 5000, 'the name learnt');
    const ok = await write('com.victronenergy.vebus.ttyO1', 2);
    assert.equal(ok.ok, true, ok.error);
    assert.equal(fake.items.get('vebus/257/Mode'), '{"value":2}');
    assert.match((await write('com.victronenergy.vebus.ttyO2', 1)).error!, /can't find a D-Bus service for com\.victronenergy\.vebus\.ttyO2\/257/);
    // a mapping that names a service of another type is no name for this one
    const route = () => remote.engine.cache.route('vebus', '257')!;
    fake.set(MAPPING, '{"value":"com.victronenergy.battery.ttyO9"}');
    await waitUntil(() => route().busName === undefined, 5000, 'the odd name not taken');
    fake.set(MAPPING, '{"value":"com.victronenergy.vebus.ttyO1"}');
    await waitUntil(() => route().busName === 'com.victronenergy.vebus.ttyO1', 5000, 'the name again');
    // the mapping goes (its item is emptied): full names are refused again
    fake.set(MAPPING, '');
    await waitUntil(() => route().busName === undefined, 5000, 'the name forgotten');
    assert.equal((await write('com.victronenergy.vebus.ttyO1', 1)).ok, false);
    assert.equal(fake.items.get('vebus/257/Mode'), '{"value":2}');
    assert.equal((await remote.engine.writeJson({ type: 'vebus', instance: '257', path: '/Mode' }, '{"value":1}', 'flow')).ok, true);
  } finally {
    await remote.close();
    await fake.stop();
    await a.stop();
  }
});
