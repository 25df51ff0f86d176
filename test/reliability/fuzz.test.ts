// Property-based tests (fast-check) over every input the engine takes: MQTT requests, flow
// messages and D-Bus values of any signature. Nothing may throw out, every refusal is a clear
// error, and the engine still answers afterwards.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { Variant } from 'dbus-next';
import { startEngineFixture, EngineFixture, PORTAL, waitUntil } from '../support/engine-fixture';
import { RawService } from '../support/raw-service';
import { WriteController } from '../../src/nodes/write-controller';
import { ReadController } from '../../src/nodes/read-controller';
import { KeepaliveController } from '../../src/nodes/keepalive-controller';
import { encodePayload } from '../../src/bridge/payload';
import { parseJsonLiteral, JsonSyntaxError } from '../../src/bridge/json-literal';

let fx: EngineFixture;
const RUNS = Number(process.env.GX_FUZZ_RUNS ?? 300);

before(async () => {
  fx = await startEngineFixture({
    engine: { timing: { aliveMs: 60000 } },
    beforeStart: async (sim) => {
      await sim.addService({ name: 'com.victronenergy.battery.ttyO0', paths: {
        '/DeviceInstance': new Variant('u', 256), '/Soc': new Variant('d', 80), '/Mode': new Variant('i', 3),
        '/Name': new Variant('s', 'x'), '/Flags': new Variant('ai', [1, 2]) } });
    },
  });
});

after(() => fx.close());

const portal = fc.oneof(fc.constant(PORTAL), fc.constant('000000000000'), fc.string({ maxLength: 14 }));
const level = fc.oneof(fc.constantFrom('battery', '256', 'Soc', 'Mode', 'keepalive', 'system', '0', 'Serial', '+', '#', '', 'Dc', 'a-b', 'com.victronenergy.battery'),
  fc.string({ maxLength: 8 }));
const topic = fc.tuple(fc.constantFrom('R', 'W', 'N', 'X', ''), portal, fc.array(level, { maxLength: 6 }))
  .map(([k, p, rest]) => [k, p, ...rest].join('/'));
const jsonish = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify({ value: v })),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string(), fc.constantFrom('{"value":NaN}', '{"value":1e400}', '{"value":-0}', '{"value":99999999999999999999}', '[' .repeat(500),
    '{"keepalive-options":["suppress-republish"]}', '{"keepalive-options":[{"full-publish-completed-echo":5}]}', ''),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')),
);

test('MQTT requests: any topic, payload and retain flag: no exception, the engine still answers', async () => {
  const errors: unknown[] = [];
  fx.engine.on('write-result', (r: { ok: boolean; error?: string }) => { if (!r.ok && !r.error) errors.push(r); });
  await fc.assert(fc.asyncProperty(topic, jsonish, fc.boolean(), async (t, p, retain) => {
    fx.engine.handleMqttRequest(t, Buffer.from(p, 'utf8'), retain);
    await new Promise((r) => setImmediate(r));
  }), { numRuns: RUNS });
  assert.deepEqual(errors, [], 'every refused write carries a reason');
  await waitUntil(() => true);
  const items = await fx.engine.read({ type: 'battery', instance: '256', path: '/Soc' });
  assert.equal(items.length, 1);
  const huge = 'x'.repeat(8 << 20);
  fx.engine.handleMqttRequest(`W/${PORTAL}/battery/256/Name`, huge, false);
  fx.engine.handleMqttRequest(`R/${PORTAL}/keepalive`, huge, false);
  assert.equal((await fx.engine.read({ type: 'battery', instance: '256', path: '/Mode' })).length, 1);
});

test('flow messages to gx-write / gx-read / gx-keepalive: a result or a clear Error, nothing else', async () => {
  const w = new WriteController(fx.engine, 'battery/256/Mode');
  const r = new ReadController(fx.engine, 'battery/256/Soc');
  const completions: unknown[] = [];
  const k = new KeepaliveController(fx.engine, { interval: 0, suppress: true, echo: true }, (m) => completions.push(m));
  const anyValue = fc.oneof(fc.anything(), fc.bigInt(), fc.constant(undefined), fc.constant(NaN), fc.constant(Infinity),
    fc.constant(Buffer.from([1, 2])), fc.constant(new Date()));
  try {
    await fc.assert(fc.asyncProperty(fc.oneof(topic, anyValue), anyValue, async (t, payload) => {
      for (const op of [() => w.write(t, payload), () => r.read(t)]) {
        try {
          const res = await op();
          assert.ok(res !== undefined);
        } catch (e) {
          assert.ok(e instanceof Error, `threw a non-Error: ${String(e)}`);
          assert.ok(e.message.length > 5, 'the message says why');
        }
      }
      try {
        k.send(payload);
      } catch (e) {
        assert.ok(e instanceof Error && /keep-alive options/.test(e.message), `keep-alive threw: ${String(e)}`);
      }
    }), { numRuns: RUNS });
  } finally {
    k.close();
  }
  assert.ok(fx.engine.alive);
});

/** A D-Bus value of any signature dbus-next can carry, with its expected JSON "kind". */
const basic = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map((v) => new Variant('y', v)),
  fc.integer({ min: -32768, max: 32767 }).map((v) => new Variant('n', v)),
  fc.integer({ min: 0, max: 65535 }).map((v) => new Variant('q', v)),
  fc.integer().map((v) => new Variant('i', v)),
  fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((v) => new Variant('u', v)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => new Variant('x', v)),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => new Variant('t', v)),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => new Variant('d', v)),
  fc.boolean().map((v) => new Variant('b', v)),
  fc.string().map((v) => new Variant('s', v)),
  fc.constant(new Variant('o', '/a/b')),
  fc.constant(new Variant('g', 'a{sv}')),
);
const variantTree: fc.Arbitrary<Variant> = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    basic,
    fc.array(fc.integer(), { maxLength: 5 }).map((a) => new Variant('ai', a)),
    fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 5 }).map((a) => new Variant('ad', a)),
    fc.array(fc.string(), { maxLength: 4 }).map((a) => new Variant('as', a)),
    fc.uint8Array({ maxLength: 8 }).map((a) => new Variant('ay', Buffer.from(a))),
    fc.dictionary(fc.string({ maxLength: 5 }).filter((k) => k !== '__proto__'), tie('v') as fc.Arbitrary<Variant>, { maxKeys: 3 })
      .map((d) => new Variant('a{sv}', { ...d })),
    fc.tuple(fc.integer(), fc.string()).map((t) => new Variant('(is)', t)),
    (tie('v') as fc.Arbitrary<Variant>).map((inner) => new Variant('v', inner)),
    fc.array(tie('v') as fc.Arbitrary<Variant>, { maxLength: 3 }).map((a) => new Variant('av', a)),
  ),
})).v;

test('D-Bus values of every signature from a service: valid JSON payloads, nothing crashes', async () => {
  const raw = new RawService('com.victronenergy.fuzz.a');
  raw.items = { '/DeviceInstance': { Value: new Variant('i', 9) } };
  await raw.connect(fx.bus.address);
  await fx.waitService('com.victronenergy.fuzz.a');
  fx.engine.keepaliveRequest('{"keepalive-options":["suppress-republish"]}');
  try {
    let n = 0;
    await fc.assert(fc.asyncProperty(variantTree, async (v) => {
      const path = `/V${n++}`;
      const start = fx.published.length;
      raw.signal('/', 'ItemsChanged', 'a{sa{sv}}', [{ [path]: { Value: v } }]);
      raw.signal(path, 'PropertiesChanged', 'a{sv}', [{ Value: v }]);
      await waitUntil(() => fx.published.slice(start).filter((m) => m.topic.endsWith(`/fuzz/9${path}`)).length === 2, 3000);
      for (const m of fx.published.slice(start)) {
        const parsed = JSON.parse(m.payload);
        assert.ok('value' in parsed);
      }
    }), { numRuns: Math.min(RUNS, 200) });
  } finally {
    raw.disconnect();
  }
  assert.equal((await fx.engine.read({ type: 'battery', instance: '256', path: '/Soc' })).length, 1);
});

test('the payload encoder always writes JSON that parses back to the same numbers', () => {
  fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
    const p = encodePayload({ signature: 'd', value: d });
    assert.equal(JSON.parse(p).value, Object.is(d, -0) ? -0 : d);
    assert.match(p, /^\{"value":-?[0-9][0-9.e+-]*\}$/);
    assert.ok(/[.e]/.test(p), 'a double always shows as one');
  }), { numRuns: 2000 });
  fc.assert(fc.property(fc.string(), (s) => {
    try {
      parseJsonLiteral(s);
    } catch (e) {
      assert.ok(e instanceof JsonSyntaxError || e instanceof SyntaxError, String(e));
    }
  }), { numRuns: 2000 });
});
