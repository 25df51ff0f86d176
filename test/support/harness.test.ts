// The test harness itself: a private dbus-daemon answers on its unix socket and on loopback
// TCP with ANONYMOUS auth, and a real mosquitto delivers what mosquitto_pub sends.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import { startPrivateBus } from './dbus-daemon';
import { startMosquitto, Subscriber, publish } from './mosquitto';

test('private dbus-daemon answers ListNames on unix socket and tcp', async () => {
  const bus = await startPrivateBus({ tcp: true });
  try {
    for (const addr of [bus.address, bus.tcpAddress!]) {
      const out = execFileSync('dbus-send', [`--bus=${addr}`, '--print-reply', '--dest=org.freedesktop.DBus',
        '/org/freedesktop/DBus', 'org.freedesktop.DBus.ListNames']).toString();
      assert.match(out, /org\.freedesktop\.DBus/);
    }
  } finally {
    await bus.stop();
  }
});

test('mosquitto delivers a retained and a plain message to mosquitto_sub', async () => {
  const broker = await startMosquitto();
  const sub = await new Subscriber(broker.port, ['x/#']).start();
  try {
    await publish(broker.port, 'x/a', 'hello world');
    await publish(broker.port, 'x/b', '{"value":1}', { retain: true });
    const a = await sub.waitFor((m) => m.topic === 'x/a');
    assert.equal(a.payload, 'hello world');
    const b = await sub.waitFor((m) => m.topic === 'x/b');
    assert.equal(b.payload, '{"value":1}');
  } finally {
    await sub.stop();
    await broker.stop();
  }
});
