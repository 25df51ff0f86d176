// The simulator's own marshaller must produce exactly the bytes dbus-next produces, and what it
// produces must read back (through dbus-next's unmarshaller) as the values that went in.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fc from 'fast-check';
import * as dbus from 'dbus-next';
import { Variant } from '../../src/sim';
import { encodeError, encodeMethodReturn, encodeSignal } from '../../src/sim/wire';

// dbus-next internals, to compare with (not in its typings)
const compat = require('dbus-next/lib/marshall-compat') as {
  marshallMessage(m: dbus.Message): [Buffer, unknown[]];
  messageToJsFmt(m: unknown): dbus.Message;
};
const message = require('dbus-next/lib/message') as { unmarshall(b: Buffer): unknown };

function reference(m: dbus.Message, serial: number): Buffer {
  m.serial = serial;
  return compat.marshallMessage(m)[0];
}

/** dbus-next's typings say replySerial is a string; it is a number on the wire. */
function msgOf(fields: Record<string, unknown>): dbus.Message {
  return new dbus.Message(fields as unknown as ConstructorParameters<typeof dbus.Message>[0]);
}

function decode(buf: Buffer): dbus.Message {
  return compat.messageToJsFmt(message.unmarshall(buf));
}

// Variants of the kinds Venus services send, with values in dbus-next's shapes.
const keyArb = fc.string().filter((s) => !s.includes('\0') && s !== '__proto__');

const variantArb: fc.Arbitrary<Variant> = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map((v) => new Variant('y', v)),
  fc.integer({ min: -32768, max: 32767 }).map((v) => new Variant('n', v)),
  fc.integer({ min: 0, max: 65535 }).map((v) => new Variant('q', v)),
  fc.integer().map((v) => new Variant('i', v)),
  fc.integer({ min: 0, max: 0xffffffff }).map((v) => new Variant('u', v)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => new Variant('x', v)),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => new Variant('t', v)),
  // dbus-next turns -0 into 0 (parseFloat); we keep the sign, so leave -0 out of the comparison
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((v) => !Object.is(v, -0)).map((v) => new Variant('d', v)),
  fc.boolean().map((v) => new Variant('b', v)),
  fc.string({ unit: 'grapheme' }).filter((s) => !s.includes('\0')).map((v) => new Variant('s', v)),
  fc.constant(new Variant('ai', [])),
  fc.array(fc.integer()).map((v) => new Variant('ai', v)),
  fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }).filter((v) => !Object.is(v, -0))).map((v) => new Variant('ad', v)),
  fc.array(fc.string().filter((s) => !s.includes('\0'))).map((v) => new Variant('as', v)),
  fc.uint8Array().map((v) => new Variant('ay', Buffer.from(v))),
  fc.dictionary(keyArb, fc.integer().map((v) => new Variant('i', v)))
    .map((v) => new Variant('a{sv}', { ...v })),
);

const pathArb = fc.array(fc.stringMatching(/^[A-Za-z0-9_]{1,8}$/), { minLength: 1, maxLength: 4 }).map((p) => `/${p.join('/')}`);

test('GetItems-shaped method returns are byte-identical to dbus-next and read back', () => {
  fc.assert(fc.property(
    fc.dictionary(pathArb, fc.record({ Value: variantArb, Text: fc.string().filter((s) => !s.includes('\0')).map((s) => new Variant('s', s)) })
      .map((r) => ({ ...r }))),
    fc.integer({ min: 1, max: 0xffffffff }), fc.integer({ min: 1, max: 0xffffffff }),
    (items, serial, replySerial) => {
      const body = [{ ...items }];
      const mine = encodeMethodReturn(serial, replySerial, ':1.42', 'a{sa{sv}}', body);
      const ref = reference(msgOf({ type: 2, replySerial, destination: ':1.42', signature: 'a{sa{sv}}', body }), serial);
      assert.deepEqual(mine, ref);
      const back = decode(mine);
      assert.equal(back.serial, serial);
      assert.equal(back.replySerial, replySerial);
      assert.deepEqual(back.body[0], body[0]);
    }), { numRuns: 300 });
});

test('single variants (GetValue replies) and signals are byte-identical to dbus-next', () => {
  fc.assert(fc.property(variantArb, pathArb, fc.integer({ min: 1, max: 1e6 }), (v, p, serial) => {
    assert.deepEqual(encodeMethodReturn(serial, 7, ':1.3', 'v', [v]),
      reference(msgOf({ type: 2, replySerial: 7, destination: ':1.3', signature: 'v', body: [v] }), serial));
    const props = { Value: v, Text: new Variant('s', 'x') };
    assert.deepEqual(encodeSignal(serial, p, 'com.victronenergy.BusItem', 'PropertiesChanged', 'a{sv}', [props]),
      reference(dbus.Message.newSignal(p, 'com.victronenergy.BusItem', 'PropertiesChanged', 'a{sv}', [props]), serial));
    const back = decode(encodeSignal(serial, '/', 'com.victronenergy.BusItem', 'ItemsChanged', 'a{sa{sv}}', [{ [p]: props }]));
    assert.equal(back.path, '/');
    assert.equal(back.member, 'ItemsChanged');
    assert.deepEqual(back.body[0], { [p]: props });
  }), { numRuns: 500 });
});

test('errors and SetValue results are byte-identical to dbus-next', () => {
  const err = encodeError(9, 4, ':1.7', 'org.freedesktop.DBus.Error.UnknownObject', "No such object path '/X'");
  const ref = reference(msgOf({ type: 3, replySerial: 4, destination: ':1.7', errorName: 'org.freedesktop.DBus.Error.UnknownObject',
    signature: 's', body: ["No such object path '/X'"] }), 9);
  assert.deepEqual(err, ref);
  assert.deepEqual(encodeMethodReturn(3, 2, ':1.1', 'i', [2]),
    reference(msgOf({ type: 2, replySerial: 2, destination: ':1.1', signature: 'i', body: [2] }), 3));
});

test('the encoder refuses values that do not fit the signature', () => {
  assert.throws(() => encodeMethodReturn(1, 1, ':1.1', 'v', [new Variant('y', 256)]), /out of range/);
  assert.throws(() => encodeMethodReturn(1, 1, ':1.1', 'v', [new Variant('i', 1.5)]), /integer/);
  assert.throws(() => encodeMethodReturn(1, 1, ':1.1', 'v', [new Variant('d', NaN)]), /finite/);
  assert.throws(() => encodeMethodReturn(1, 1, ':1.1', 'v', [new Variant('s', 'a\0b')]), /NUL/);
  assert.throws(() => encodeMethodReturn(1, 1, ':1.1', 'v', [5]), /Variant/);
  assert.throws(() => encodeMethodReturn(1, 1, ':1.1', 'ai', [{}]), /array/);
});

test('the smallest int64 marshals and reads back (dbus-next alone refuses -2^63)', () => {
  const v = new Variant('x', -(2n ** 63n));
  const mine = encodeMethodReturn(9, 7, ':1.3', 'v', [v]);
  assert.deepEqual(mine, reference(msgOf({ type: 2, replySerial: 7, destination: ':1.3', signature: 'v', body: [v] }), 9));
  assert.equal((decode(mine).body[0] as Variant).value, -(2n ** 63n));
});
