// R/W topics, device instances and keep-alive options (spec R5–R7, I1–I7, K4, K5).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseRequestTopic, requestType, topicMatches, isValidFilter, TopicError } from '../../src/bridge/topics';
import { deviceInstance } from '../../src/bridge/device-instance';
import { parseKeepaliveOptions } from '../../src/bridge/keepalive';
import { joinPath } from '../../src/bridge/sub-tree';
import { TypedValue } from '../../src/bridge/typed-value';

test('request topics', () => {
  assert.deepEqual(parseRequestTopic('R/abc/battery/512/Soc'), {
    kind: 'R', portal: 'abc', target: { type: 'battery', instance: '512', path: '/Soc' }, serialKeepalive: false });
  assert.deepEqual(parseRequestTopic('R/abc/keepalive'), { kind: 'R', portal: 'abc', special: 'keepalive' });
  assert.equal((parseRequestTopic('R/abc/battery/512/') as { target: { path: string } }).target.path, '/');
  assert.equal((parseRequestTopic('R/abc/com.victronenergy.system/0/Serial') as { target: { type: string } }).target.type, 'system');
  assert.equal((parseRequestTopic('R/abc/system/0/Serial') as { serialKeepalive: boolean }).serialKeepalive, true);
  for (const bad of ['R/abc/system/0', 'R/abc', 'X/abc/a/0/b', 'R/abc/battery/512/Dc/', 'R/abc/battery/512/A-b',
    'R/abc/+/0/x', 'R/abc/foo.bar/0/x', 'W/abc/battery//Soc']) {
    assert.throws(() => parseRequestTopic(bad), TopicError, bad);
  }
});

test('the type field of R/W topics: a short type, com.victronenergy.<type>, or a full bus name to be checked (issue 14 #13)', () => {
  assert.deepEqual(requestType('vebus'), { type: 'vebus' });
  assert.deepEqual(requestType('com.victronenergy.vebus'), { type: 'vebus' }, 'I7');
  assert.deepEqual(requestType('com.victronenergy.vebus.ttyS3'), { type: 'vebus', busName: 'com.victronenergy.vebus.ttyS3' });
  assert.deepEqual(requestType('com.victronenergy.vebus.ttyUSB9.bogus'), { type: 'vebus', busName: 'com.victronenergy.vebus.ttyUSB9.bogus' },
    'kept whole: routing then finds no service of that name');
  for (const bad of ['vebus.ttyS3', 'com.victronenergy.', 'com.victronenergy..x', 'org.freedesktop.DBus', 'a b', 'com.victronenergy.a b']) {
    assert.throws(() => requestType(bad), /is not a service type/, bad);
  }
  assert.deepEqual((parseRequestTopic('W/abc/com.victronenergy.vebus.ttyS3/275/Mode') as { target: object }).target,
    { type: 'vebus', busName: 'com.victronenergy.vebus.ttyS3', instance: '275', path: '/Mode' });
});

test('topic filters', () => {
  assert.ok(topicMatches('vebus/+/Hub4/#', 'vebus/257/Hub4/L1/AcPowerSetpoint'));
  assert.ok(!topicMatches('vebus/+/Hub4/#', 'vebus/257/Mode'));
  assert.ok(topicMatches('#', 'a/b'));
  assert.ok(topicMatches('a/+', 'a/b'));
  assert.ok(!topicMatches('a/+', 'a/b/c'));
  assert.ok(isValidFilter('a/+/#'));
  assert.ok(!isValidFilter('a/#/b'));
  assert.ok(!isValidFilter('a/b+'));
});

test('device instance: int, double, bool, numeric string (improvement), identifier, default', () => {
  const di = (m: Record<string, TypedValue>) => deviceInstance((p) => m[p]);
  assert.equal(di({ '/DeviceInstance': { signature: 'u', value: 256 } }), '256');
  assert.equal(di({ '/DeviceInstance': { signature: 'd', value: 3.9 } }), '3');
  assert.equal(di({ '/DeviceInstance': { signature: 'b', value: true } }), '1');
  assert.equal(di({ '/DeviceInstance': { signature: 's', value: '24' } }), '24');
  assert.equal(di({ '/DeviceInstance': { signature: 's', value: 'abc' } }), '0');
  assert.equal(di({ '/DeviceInstance': { signature: 'ai', value: [] } }), '0');
  assert.equal(di({ '/Identifier': { signature: 's', value: 'vecan0' } }), 'vecan0');
  assert.equal(di({}), '0');
});

test('keep-alive options are read as dbus-flashmq reads them', () => {
  assert.deepEqual(parseKeepaliveOptions(''), { suppressRepublish: false });
  assert.deepEqual(parseKeepaliveOptions('{ "keepalive-options" : ["suppress-republish"] }'), { suppressRepublish: true });
  assert.deepEqual(parseKeepaliveOptions('garbage suppress-republish'), { suppressRepublish: true });
  assert.deepEqual(parseKeepaliveOptions('{"keepalive-options":[{"full-publish-completed-echo":"abc"}]}'),
    { suppressRepublish: false, echo: 'abc' });
  assert.deepEqual(parseKeepaliveOptions('{"keepalive-options":[{"full-publish-completed-echo":"a"},{"x":1},{"full-publish-completed-echo":"b"}]}'),
    { suppressRepublish: false, echo: 'a' }, 'a bad element stops option parsing');
  for (const first of ['5', 'null', '[]', '"suppress-republish-not"', 'true']) {
    assert.deepEqual(parseKeepaliveOptions(`{"keepalive-options":[${first},{"full-publish-completed-echo":"x"}]}`).echo, 'x',
      `F looks only at objects: ${first} before the echo is passed over`);
  }
  assert.deepEqual(parseKeepaliveOptions('{"keepalive-options":[{"full-publish-completed-echo":7},{"full-publish-completed-echo":"b"}]}'),
    { suppressRepublish: false }, 'a non-string echo stops option parsing');
  assert.deepEqual(parseKeepaliveOptions('["vebus/#"]'), { suppressRepublish: false });
  assert.deepEqual(parseKeepaliveOptions('null'), { suppressRepublish: false });
});

test('sub-tree paths are joined with single slashes', () => {
  assert.equal(joinPath('/Dc', '0/Voltage'), '/Dc/0/Voltage');
  assert.equal(joinPath('/', 'Ac/Power'), '/Ac/Power');
  assert.equal(joinPath('/Settings/', '/Gui//Brightness'), '/Settings/Gui/Brightness');
});
