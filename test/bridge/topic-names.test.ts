// What may stand in an MQTT topic name, and how the item cache keeps out what may not (issue
// 14 #1). The characters that cannot come over D-Bus (NUL, lone surrogates) are checked here,
// since a source other than D-Bus could carry them.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ItemCache, Service } from '../../src/bridge/item-cache';
import { MAX_TOPIC_BYTES, topicLevelProblem, topicTextProblem } from '../../src/bridge/topic-names';

const v = { signature: 'i', value: 1 };

test('topic text: wildcards, control characters, non-characters and lone surrogates are refused, with the reason', () => {
  for (const [text, reason] of [
    ['/A/+/B', /wildcard '\+'/], ['/C/#', /wildcard '#'/], ['/N\u0000', /control character U\+0000/],
    ['/C\u0001', /control character U\+0001/], ['/Del\u007f', /U\+007F/], ['/C1\u0085', /U\+0085/],
    ['/F\uffff', /non-character U\+FFFF/], ['/F\ufdd0', /non-character U\+FDD0/], ['/F\u{1fffe}', /non-character U\+1FFFE/],
    ['/S\ud800', /unpaired UTF-16 surrogate \(U\+D800\)/], ['/S\udc00x', /unpaired .*U\+DC00/], ['/S\udc00\ud800', /unpaired/],
  ] as Array<[string, RegExp]>) {
    assert.match(topicTextProblem(text) ?? 'accepted', reason, JSON.stringify(text));
  }
  for (const ok of ['/Ac/L1/Power', '/Temp °C', '/😀', '/Ünïcödé', '/a b', '/x\ufffd', '', '/A//B', '/$SYS']) {
    assert.equal(topicTextProblem(ok), undefined, JSON.stringify(ok));
  }
  assert.match(topicLevelProblem('a/b')!, /'\/'/);
  assert.match(topicLevelProblem('')!, /empty/);
  assert.equal(topicLevelProblem('vecan0'), undefined);
});

test('the cache keeps out items whose topics cannot exist, at the exact MQTT length limit, and tells once per service', () => {
  const cache = new ItemCache();
  const told: string[] = [];
  cache.onRefused = (s, what, reason) => told.push(`${s.name} ${what} ${reason}`);
  const svc = new Service('com.victronenergy.tank.t', 'tank', '5', 'portal');
  assert.ok(cache.add(svc));
  const room = MAX_TOPIC_BYTES - Buffer.byteLength(svc.prefix);
  assert.ok(svc.apply({ path: '/' + 'x'.repeat(room - 1), value: v }), 'exactly 65535 bytes is allowed');
  assert.equal(svc.apply({ path: '/' + 'x'.repeat(room), value: v }), undefined, 'one byte more is not');
  assert.equal(svc.apply({ path: '/' + 'é'.repeat(room / 2), value: v }), undefined, 'counted in UTF-8 bytes');
  assert.equal(svc.apply({ path: '/A/+/B', value: v }), undefined);
  assert.equal(svc.apply({ path: '/N\u0000', value: v }), undefined);
  assert.ok(svc.apply({ path: '/Ok', value: v }));
  assert.equal(svc.items.size, 2);
  assert.equal(told.length, 1, told.join('\n'));
  assert.match(told[0], /^com\.victronenergy\.tank\.t item "\/x+…" its topic would be longer than MQTT's 65535 bytes$/);
  // a longer portal ID makes the longest topic too long: that item goes too
  cache.setPortal('portal2');
  assert.deepEqual([...svc.items.keys()], ['/Ok']);
});

test('the cache keeps out a service whose instance cannot be a topic level; an item limit bounds new paths', () => {
  const cache = new ItemCache();
  const told: string[] = [];
  cache.onRefused = (s, what, reason) => told.push(`${s.name}: ${what}: ${reason}`);
  assert.equal(cache.add(new Service('com.victronenergy.vecan.x', 'vecan', 'x#y+', 'p')), false);
  assert.equal(cache.add(new Service('com.victronenergy.vecan.z', 'vecan', 'z\ud800', 'p')), false);
  assert.equal(cache.route('vecan', 'x#y+'), undefined);
  assert.equal(cache.services.size, 0);
  assert.match(told[0], /vecan\.x: the service: its instance "x#y\+" cannot be part of an MQTT topic: it contains the MQTT wildcard '#'/);
  assert.match(told[1], /vecan\.z: .*unpaired UTF-16 surrogate/);
  cache.maxItemsPerService = 3;
  const svc = new Service('com.victronenergy.battery.b', 'battery', '1', 'p');
  assert.ok(cache.add(svc));
  for (let n = 0; n < 10; n++) svc.apply({ path: `/P${n}`, value: v });
  assert.deepEqual([...svc.items.keys()], ['/P0', '/P1', '/P2']);
  assert.ok(svc.apply({ path: '/P1', value: { signature: 'i', value: 2 } }), 'known items still change');
  assert.match(told[2], /battery\.b: item "\/P3": the service already has 3 items/);
  assert.equal(told.length, 3);
});

test('routing: the first claim of a type/instance routes until it leaves, then the next oldest', () => {
  const cache = new ItemCache();
  const [a, b, c] = ['a', 'b', 'c'].map((n) => new Service(`com.victronenergy.tank.${n}`, 'tank', '5', 'p'));
  for (const s of [a, b, c]) cache.add(s);
  assert.equal(cache.route('tank', '5'), a);
  assert.deepEqual(cache.sharing(b), [a, c]);
  cache.remove(b.name);
  assert.equal(cache.route('tank', '5'), a);
  cache.remove(a.name);
  assert.equal(cache.route('tank', '5'), c);
  cache.remove(c.name);
  assert.equal(cache.route('tank', '5'), undefined);
});
