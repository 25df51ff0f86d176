// The filter between the broker socket and MQTT.js: oversized PUBLISH packets are skipped
// unread, everything else reaches the parser byte for byte, however the stream is chunked.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { DroppedPacket, OversizedPublishFilter } from '../../src/mqtt/oversized-filter';

const mqttPacket = require('mqtt-packet');

const LIMIT = 1000;

function packets(v5: boolean): Array<{ buf: Buffer; big: boolean; topic?: string }> {
  const gen = (p: object) => mqttPacket.generate(p, { protocolVersion: v5 ? 5 : 4 }) as Buffer;
  const pub = (topic: string, size: number) => ({
    buf: gen({ cmd: 'publish', topic, payload: Buffer.alloc(size, 0x61), qos: 0, retain: false }), topic,
  });
  const list = [
    { buf: gen({ cmd: 'connack', returnCode: 0, reasonCode: 0, sessionPresent: false }), big: false },
    { buf: gen({ cmd: 'suback', messageId: 1, granted: [0, 0] }), big: false },
    { ...pub('R/p/keepalive', 0), big: false },
    { ...pub('W/p/big/0/X', 5000), big: true },
    { ...pub('R/p/battery/256/Soc', 10), big: false },
    { ...pub('R/p/' + 't'.repeat(3000), 1), big: true },
    { ...pub('R/p/edge', LIMIT - 17), big: false },
    { buf: gen({ cmd: 'pingresp' }), big: false },
    { ...pub('W/p/huge/0/X', 300000), big: true },
    { ...pub('R/p/last/0/X', 3), big: false },
  ];
  return list;
}

function run(stream: Buffer, cuts: number[]): { out: Buffer; dropped: DroppedPacket[] } {
  const dropped: DroppedPacket[] = [];
  const f = new OversizedPublishFilter(LIMIT, (d) => dropped.push(d));
  const out: Buffer[] = [];
  f.on('data', (c: Buffer) => out.push(c));
  let at = 0;
  for (const c of [...cuts, stream.length]) {
    if (c <= at) continue;
    f.write(stream.subarray(at, c));
    at = c;
  }
  return { out: Buffer.concat(out), dropped };
}

for (const v5 of [false, true]) {
  test(`only the oversized PUBLISH packets are taken out, in any chunking (MQTT ${v5 ? '5' : '3.1.1'})`, () => {
    const list = packets(v5);
    const stream = Buffer.concat(list.map((p) => p.buf));
    const expected = Buffer.concat(list.filter((p) => !p.big).map((p) => p.buf));
    const bigTopics = list.filter((p) => p.big).map((p) => p.topic!);
    assert.ok(list.filter((p) => !p.big).every((p) => p.buf.length <= LIMIT) && list.filter((p) => p.big).every((p) => p.buf.length > LIMIT));
    const check = (cuts: number[]) => {
      const { out, dropped } = run(stream, cuts);
      assert.ok(out.equals(expected), `cuts ${cuts.slice(0, 20).join(',')}`);
      assert.deepEqual(dropped.map((d) => d.topic), bigTopics.map((t) => t.slice(0, 200)));
      assert.deepEqual(dropped.map((d) => d.topicBytes), bigTopics.map((t) => t.length));
    };
    check([]);
    check(Array.from({ length: stream.length }, (_, i) => i)); // one byte at a time
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 40 }), (cuts) => {
      check(cuts.sort((a, b) => a - b));
    }), { numRuns: 300 });
    // and MQTT.js's parser reads the result
    const parser = mqttPacket.parser({ protocolVersion: v5 ? 5 : 4 });
    const cmds: string[] = [];
    parser.on('packet', (p: { cmd: string; topic?: string }) => cmds.push(p.topic ?? p.cmd));
    parser.parse(run(stream, [7, 100, 5001]).out);
    assert.deepEqual(cmds, ['connack', 'suback', 'R/p/keepalive', 'R/p/battery/256/Soc', 'R/p/edge', 'pingresp', 'R/p/last/0/X']);
  });
}

test('a malformed length passes through untouched, for MQTT.js to refuse', () => {
  const bad = Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01, 1, 2, 3]);
  const { out, dropped } = run(bad, [2, 4]);
  assert.ok(out.equals(bad));
  assert.equal(dropped.length, 0);
});
