// Our own QoS 0 PUBLISH encoding, checked by MQTT.js's parser (mqtt-packet): every length
// class, UTF-8, retain, MQTT 3.1.1 and 5, many packets across buffer chunks in one flush.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { PublishWriter } from '../../src/mqtt/publish-writer';

const mqttPacket = require('mqtt-packet');

function roundTrip(mqtt5: boolean, messages: Array<[string, string, boolean]>) {
  const written: Buffer[] = [];
  let corked = 0;
  const sink = { write: (b: Buffer) => { written.push(Buffer.from(b)); return true; }, cork: () => corked++, uncork: () => undefined };
  const w = new PublishWriter(() => sink, mqtt5);
  for (const [t, p, r] of messages) w.publish(t, p, r);
  w.flush();
  const parser = mqttPacket.parser({ protocolVersion: mqtt5 ? 5 : 4 });
  const got: Array<[string, string, boolean]> = [];
  parser.on('packet', (pk: any) => got.push([pk.topic, pk.payload.toString('utf8'), pk.retain]));
  parser.on('error', (e: Error) => { throw e; });
  for (const b of written) parser.parse(b);
  return { got, writes: written.length, corked };
}

for (const v5 of [false, true]) {
  test(`PUBLISH packets parse back exactly (MQTT ${v5 ? '5' : '3.1.1'})`, () => {
    const msgs: Array<[string, string, boolean]> = [
      ['N/abc/battery/256/Soc', '{"value":80.0}', false],
      ['N/abc/system/0/Serial', '{"value":"abc"}', true],
      ['N/abc/battery/256/Gone', '', false],
      ['N/abc/tëst/0/°C', '{"value":"25 °C ✓"}', false],
      ['N/abc/x/0/big', 'x'.repeat(200), false],
      ['N/abc/x/0/bigger', 'y'.repeat(20000), false],
      ['N/abc/x/0/huge', 'z'.repeat(3 * 1024 * 1024), false],
    ];
    for (let i = 0; i < 20000; i++) msgs.push([`N/abc/synthetic/${i % 100}/D${i}`, `{"value":${i}.5}`, false]);
    const { got, writes } = roundTrip(v5, msgs);
    assert.equal(got.length, msgs.length);
    assert.deepEqual(got, msgs);
    assert.ok(writes >= 3, 'full chunks go out as they fill, not all at the end');
  });
}

test('packets published in one event-loop turn go out together at its end; none without a connection', async () => {
  const writes: Buffer[] = [];
  let connected = true;
  const w = new PublishWriter(() => (connected ? { write: (b: Buffer) => { writes.push(b); return true; } } : undefined), false);
  for (let i = 0; i < 100; i++) w.publish(`N/p/t/0/${i}`, '{"value":1}', false);
  assert.equal(writes.length, 0, 'nothing written yet');
  await new Promise((r) => setImmediate(r));
  assert.equal(writes.length, 1, 'one write for 100 packets');
  connected = false;
  w.publish('N/p/t/0/x', '{"value":1}', false);
  await new Promise((r) => setImmediate(r));
  assert.equal(writes.length, 1);
  assert.equal(w.pendingBytes, 0, 'dropped, not kept for later');
});
