// Legacy mode is what dbus-mqtt v1.36's clients read, byte for byte (spec N3, N5, N8, S2, R8,
// R9, K-P1…K-P9, §12): gx-bridge --mode legacy on a private bus with hand-made services, a
// real mosquitto, and mosquitto_sub as the client (MQTT 5 with retain-as-published, so live
// messages show their retain flag). The expected texts are what dbus-mqtt's json.dumps writes.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { startPrivateBus, PrivateBus } from '../support/dbus-daemon';
import { publish, Received, startMosquitto, Broker, Subscriber } from '../support/mosquitto';
import { startBridge, BridgeProcess } from '../support/bridge-process';
import { allowNonFiniteDoubles, RawService, Variant } from '../support/raw-service';
import { sleep, waitUntil } from '../support/engine-fixture';

let bus: PrivateBus;
let broker: Broker;
const services: RawService[] = [];

const V = (sig: string, v: unknown) => new Variant(sig, v);

/** dbus-mqtt's text for each battery item (N3, J table). */
const BATTERY: Record<string, [InstanceType<typeof Variant>, string]> = {
  '/DeviceInstance': [V('i', 7), '{"value": 7}'],
  '/Int': [V('i', 1), '{"value": 1}'],
  '/Zero': [V('d', 0), '{"value": 0.0}'],
  '/Big': [V('d', 1e20), '{"value": 1e+20}'],
  '/Small': [V('d', 1e-7), '{"value": 1e-07}'],
  '/Wide': [V('d', 1.2345678901234568e17), '{"value": 1.2345678901234568e+17}'],
  '/Nan': [V('d', NaN), '{"value": NaN}'],
  '/Inf': [V('d', Infinity), '{"value": Infinity}'],
  '/Text': [V('s', 'Grüße 25 °C "x"'), '{"value": "Gr\\u00fc\\u00dfe 25 \\u00b0C \\"x\\""}'],
  '/Flag': [V('b', true), '{"value": true}'],
  '/Int64': [V('x', 4611686018427387905n), '{"value": 4611686018427387905}'],
  '/U64': [V('t', 18446744073709551615n), '{"value": 18446744073709551615}'],
  '/Invalid': [V('ai', []), '{"value": null}'],
  '/List': [V('ad', [1.5, 2]), '{"value": [1.5, 2.0]}'],
  '/Dict': [V('a{sv}', { zeta: V('i', 1), alpha: V('s', 'a'), Mid: V('b', false) }), '{"value": {"zeta": 1, "alpha": "a", "Mid": false}}'],
  '/Empty': [V('a{sv}', {}), '{"value": {}}'],
};

async function addService(name: string, items: RawService['items'], extra: RawService['extraValues'] = {}): Promise<RawService> {
  const s = new RawService(name);
  s.items = items;
  s.extraValues = extra;
  await s.connect(bus.address);
  services.push(s);
  return s;
}

function batteryItems(): RawService['items'] {
  return Object.fromEntries(Object.entries(BATTERY).map(([p, [v]]) => [p, { Value: v }]));
}

before(async () => {
  allowNonFiniteDoubles(); // dbus-python services send NaN; dbus-next would refuse to
  bus = await startPrivateBus();
  broker = await startMosquitto();
  await addService('com.victronenergy.battery.legacy', batteryItems(), {
    // a sub-tree: velib answers GetValue on an inner node with relative paths (D7, R9)
    '/Sub': V('a{sv}', { 'B/X': V('d', 2.5), A: V('b', true), C: V('ai', []) }),
  });
  await addService('com.victronenergy.settings', {
    '/Settings/X': { Value: V('d', 5), Min: V('d', 0), Max: V('d', 10) },
    '/Settings/Ble/Service/Pincode': { Value: V('s', '123456') },
  });
});

after(async () => {
  for (const s of services) s.disconnect();
  await broker?.stop();
  await bus?.stop();
});

async function legacyBridge(portal: string, more: string[] = []): Promise<BridgeProcess> {
  return startBridge(['--dbus', bus.address, '--broker', broker.url, '--portal-id', portal, '--mode', 'legacy', ...more]);
}

/** A live client of N/<portal>/# that sees retain flags as published. */
function client(portal: string): Promise<Subscriber> {
  return new Subscriber(broker.port, [`N/${portal}/#`], false, true).start();
}

/** What a client connecting now gets as retained messages. */
async function retained(portal: string): Promise<Map<string, string>> {
  const s = await new Subscriber(broker.port, [`N/${portal}/#`], true).start();
  await s.stop();
  return new Map(s.messages.map((m) => [m.topic, m.payload]));
}

const under = (portal: string, ms: Received[], prefix: string) => ms.filter((m) => m.topic.startsWith(`N/${portal}/${prefix}`));

test('payloads: dbus-mqtt\'s json.dumps text, all retained, sorted, no min/max, secrets masked (N3, N5, K-P2)', async () => {
  const P = 'legacypay001';
  const b = await legacyBridge(P);
  const sub = await client(P);
  try {
    const r0 = await retained(P);
    assert.equal(r0.get(`N/${P}/keepalive`), '{"value": 1}', 'the marker (K-P7)');
    assert.equal(r0.get(`N/${P}/system/0/Serial`), `{"value": "${P}"}`, 'the serial is the own portal ID (N8)');
    assert.equal(r0.size, 2);
    await publish(broker.port, `R/${P}/keepalive`, '');
    const count = Object.keys(BATTERY).length + 2;
    await waitUntil(() => sub.messages.length >= count, 5000, 'the full publish');
    await sleep(200);
    const got = sub.messages;
    assert.equal(got.length, count);
    assert.ok(got.every((m) => m.retain), 'every notification is retained (N5)');
    assert.deepEqual(got.map((m) => m.topic), got.map((m) => m.topic).sort(), 'sorted by topic (K-P2)');
    for (const [p, [, text]] of Object.entries(BATTERY)) {
      assert.equal(got.find((m) => m.topic === `N/${P}/battery/7${p}`)?.payload, text, p);
    }
    assert.equal(got.find((m) => m.topic === `N/${P}/settings/0/Settings/X`)?.payload, '{"value": 5.0}', 'no min/max (N3)');
    assert.equal(got.find((m) => m.topic.endsWith('/Pincode'))?.payload, '{"value": "******"}', 'the PIN stays masked (J4)');
    // a second "all" republishes nothing: the retained messages are there (K-P2)
    sub.clear();
    await publish(broker.port, `R/${P}/keepalive`, '');
    await sleep(300);
    assert.deepEqual(sub.messages, []);
  } finally {
    await sub.stop();
    await b.stop();
  }
});

test('read replies are raw and not retained: [] for invalid, 1/0 for booleans; a sub-tree is one object, kept (R8, R9)', async () => {
  const P = 'legacyread01';
  const b = await legacyBridge(P);
  const sub = await client(P);
  const R = (t: string) => publish(broker.port, `R/${P}/battery/7/${t}`, '');
  const reply = async (t: string) => {
    const m = await sub.waitFor((x) => x.topic === `N/${P}/battery/7/${t}`);
    sub.clear();
    return [m.payload, m.retain];
  };
  try {
    await R('Flag');
    assert.deepEqual(await reply('Flag'), ['{"value": 1}', false]);
    await R('Invalid');
    assert.deepEqual(await reply('Invalid'), ['{"value": []}', false]);
    await R('Dict');
    assert.deepEqual(await reply('Dict'), ['{"value": {"zeta": 1, "alpha": "a", "Mid": 0}}', false]);
    await R('Text');
    assert.deepEqual(await reply('Text'), [BATTERY['/Text'][1], false]);
    await R('Nan');
    assert.deepEqual(await reply('Nan'), ['{"value": NaN}', false]);
    await publish(broker.port, `R/${P}/settings/0/Settings/Ble/Service/Pincode`, '');
    assert.equal((await sub.waitFor((x) => x.topic.endsWith('/Pincode'))).payload, '{"value": "******"}');
    sub.clear();
    await R('Sub');
    assert.deepEqual(await reply('Sub'), ['{"value": {"B/X": 2.5, "A": 1, "C": []}}', false], 'one object on the sub-tree topic');
    await sleep(200);
    assert.deepEqual(sub.messages, [], 'no message per leaf');
    assert.equal((await retained(P)).size, 2, 'nothing retained by reads');
    // the sub-tree topic is kept: a keep-alive that covers it publishes it, unwrapped and retained
    await publish(broker.port, `R/${P}/keepalive`, '["battery/+/Sub"]');
    const kept = await sub.waitFor((x) => x.topic === `N/${P}/battery/7/Sub`);
    assert.deepEqual([kept.payload, kept.retain], ['{"value": {"B/X": 2.5, "A": true, "C": null}}', true]);
    await publish(broker.port, `R/${P}/keepalive`, '');
    await waitUntil(() => sub.messages.length >= Object.keys(BATTERY).length + 3);
    assert.equal((await retained(P)).get(`N/${P}/battery/7/Sub`), '{"value": {"B/X": 2.5, "A": true, "C": null}}');
  } finally {
    await sub.stop();
    await b.stop();
  }
});

test('"all" after a selective keep-alive re-sends everything; a serial keep-alive sends one retained Serial (K-P2…K-P4)', async () => {
  const P = 'legacyresend';
  await addService('com.victronenergy.system', { '/Serial': { Value: V('s', P) }, '/Relay/0/State': { Value: V('i', 0) } });
  const b = await legacyBridge(P);
  const sub = await client(P);
  try {
    await publish(broker.port, `R/${P}/keepalive`, '["battery/7/Int"]');
    await sub.waitFor((m) => m.topic === `N/${P}/battery/7/Int`);
    await sleep(200);
    assert.deepEqual(sub.messages.map((m) => m.topic), [`N/${P}/battery/7/Int`], 'a new filter: what it covers');
    sub.clear();
    await publish(broker.port, `R/${P}/keepalive`, '');
    const all = Object.keys(BATTERY).length + 2 + 2;
    await waitUntil(() => sub.messages.length >= all, 5000, 'everything');
    await sleep(200);
    const topics = sub.messages.map((m) => m.topic);
    assert.equal(topics.length, all);
    assert.ok(topics.includes(`N/${P}/battery/7/Int`), 'the topic published before is sent again, as dbus-mqtt sends it');
    assert.deepEqual(topics, [...topics].sort());
    assert.equal(topics.filter((t) => t.endsWith('/system/0/Serial')).length, 1);
    // the serial keep-alive while "all" is live: just the serial, once, retained (K-P4, N8)
    sub.clear();
    await publish(broker.port, `R/${P}/system/0/Serial`, 'anything');
    await sub.waitFor((m) => m.topic.endsWith('/Serial'));
    await sleep(300);
    assert.deepEqual(sub.messages.map((m) => [m.topic, m.payload, m.retain]), [[`N/${P}/system/0/Serial`, `{"value": "${P}"}`, true]]);
  } finally {
    await sub.stop();
    await b.stop();
    services.pop()!.disconnect();
  }
});

test('a serial keep-alive that starts "all": the serial first, then everything sorted, the serial not twice (K-P4)', async () => {
  const P = 'legacyserial';
  await addService('com.victronenergy.system', { '/Serial': { Value: V('s', P) } });
  const b = await legacyBridge(P);
  const sub = await client(P);
  try {
    await publish(broker.port, `R/${P}/system/0/Serial`, '');
    const all = Object.keys(BATTERY).length + 2 + 1;
    await waitUntil(() => sub.messages.length >= all, 5000);
    await sleep(300);
    const topics = sub.messages.map((m) => m.topic);
    assert.equal(topics.length, all);
    assert.equal(topics[0], `N/${P}/system/0/Serial`);
    assert.deepEqual(topics.slice(1), topics.slice(1).sort());
    assert.ok(sub.messages.every((m) => m.retain));
  } finally {
    await sub.stop();
    await b.stop();
    services.pop()!.disconnect();
  }
});

test('a service that leaves: an empty retained payload on every one of its topics, published or not (S2)', async () => {
  const P = 'legacygone01';
  const tank = await addService('com.victronenergy.tank.gone', { '/DeviceInstance': { Value: V('i', 3) }, '/Level': { Value: V('d', 50) }, '/Name': { Value: V('s', 't') } });
  const b = await legacyBridge(P);
  const sub = await client(P);
  try {
    await publish(broker.port, `R/${P}/keepalive`, '["tank/3/Level"]');
    await sub.waitFor((m) => m.topic === `N/${P}/tank/3/Level`);
    assert.equal((await retained(P)).get(`N/${P}/tank/3/Level`), '{"value": 50.0}');
    sub.clear();
    tank.disconnect();
    services.splice(services.indexOf(tank), 1);
    await waitUntil(() => under(P, sub.messages, 'tank/').length >= 3, 5000);
    await sleep(200);
    assert.deepEqual(under(P, sub.messages, 'tank/').map((m) => [m.topic, m.payload, m.retain]).sort(), [
      [`N/${P}/tank/3/DeviceInstance`, '', true], [`N/${P}/tank/3/Level`, '', true], [`N/${P}/tank/3/Name`, '', true]]);
    assert.ok(!(await retained(P)).has(`N/${P}/tank/3/Level`));
  } finally {
    await sub.stop();
    await b.stop();
  }
});

test('after a broker restart: marker, serial and everything covered are retained again (K-P7)', async () => {
  const P = 'legacyrecon1';
  const b = await legacyBridge(P);
  try {
    const sub = await client(P);
    await publish(broker.port, `R/${P}/keepalive`, '["settings/#"]');
    await sub.waitFor((m) => m.topic === `N/${P}/settings/0/Settings/X`);
    await sub.stop();
    await broker.restart();
    await waitUntil(() => (b.output().match(/connected to MQTT broker/g) ?? []).length >= 2, 15000, 'reconnect');
    await sleep(300);
    const r = await retained(P);
    assert.deepEqual([...r.keys()].sort(), [`N/${P}/keepalive`, `N/${P}/settings/0/Settings/Ble/Service/Pincode`,
      `N/${P}/settings/0/Settings/X`, `N/${P}/system/0/Serial`]);
    assert.equal(r.get(`N/${P}/settings/0/Settings/X`), '{"value": 5.0}');
  } finally {
    await b.stop();
  }
});

test('keep-alive filter lists are bounded: too many filters or too many bytes refresh nothing, and it still answers', async () => {
  const P = 'legacybound1';
  const b = await legacyBridge(P);
  const sub = await client(P);
  try {
    const filters = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => `battery/7/F${i}`));
    await publish(broker.port, `R/${P}/keepalive`, filters(2000));
    await b.waitOutput('keep-alive with 2000 topic filters, more than 1000: not refreshed');
    const tenThousand = JSON.stringify(Array.from({ length: 10000 }, (_, i) => `b/${i}`));
    assert.ok(tenThousand.length > 65536 && tenThousand.length < 100000, 'over the payload limit, within the packet limit');
    await publish(broker.port, `R/${P}/keepalive`, tenThousand);
    await b.waitOutput(new RegExp(`ignored R/${P}/keepalive: a payload of ${tenThousand.length} bytes is over the 65536-byte limit`));
    await sleep(200);
    assert.deepEqual(sub.messages, [], 'not alive: nothing published');
    await publish(broker.port, `R/${P}/keepalive`, filters(1000).replace('"battery/7/F0"', '"battery/7/Int"'));
    const m = await sub.waitFor((x) => x.topic === `N/${P}/battery/7/Int`);
    assert.equal(m.payload, '{"value": 1}');
  } finally {
    await sub.stop();
    await b.stop();
  }
});
