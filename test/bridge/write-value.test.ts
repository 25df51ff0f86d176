// Typing written values (spec W4 and Appendix A.1), with the item's own type where known.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseJsonLiteral, JsonSyntaxError } from '../../src/bridge/json-literal';
import { toDbusValue, WriteTypeError } from '../../src/bridge/write-value';

const typed = (json: string, target?: string) => toDbusValue(parseJsonLiteral(json), target);

test('from the JSON literal, as dbus-flashmq: 1 → int32, 1.0 → double, beyond int32 → int64', () => {
  assert.deepEqual(typed('-200'), { signature: 'i', value: -200 });
  assert.deepEqual(typed('1.0'), { signature: 'd', value: 1 });
  assert.deepEqual(typed('1e3'), { signature: 'd', value: 1000 });
  assert.deepEqual(typed('3000000000'), { signature: 'x', value: 3000000000n });
  assert.deepEqual(typed('true'), { signature: 'b', value: true });
  assert.deepEqual(typed('"x"'), { signature: 's', value: 'x' });
  assert.deepEqual(typed('null'), { signature: 'ai', value: [] });
  assert.deepEqual(typed('[]'), { signature: 'au', value: [] });
  assert.deepEqual(typed('[1,2]'), { signature: 'ai', value: [1, 2] });
  assert.deepEqual(typed('[[1],[2]]'), { signature: 'aai', value: [[1], [2]] });
  assert.deepEqual(typed('[1,2.5]'), { signature: 'ad', value: [1, 2.5] });
});

test('refused: objects, mixed arrays, integers beyond 64 bits', () => {
  assert.throws(() => typed('{"a":1}'), WriteTypeError);
  assert.throws(() => typed('[1,"a"]'), /mixed type/);
  assert.throws(() => typed('99999999999999999999'), /64 bits/);
});

test('to the item\'s own type: converted without loss, or refused with the reason', () => {
  assert.deepEqual(typed('100', 'd'), { signature: 'd', value: 100 });
  assert.deepEqual(typed('100.0', 'i'), { signature: 'i', value: 100 });
  assert.deepEqual(typed('-44', 'i'), { signature: 'i', value: -44 });
  assert.deepEqual(typed('40000', 'i'), { signature: 'i', value: 40000 });
  assert.deepEqual(typed('5', 'x'), { signature: 'x', value: 5n });
  assert.deepEqual(typed('1', 'b'), { signature: 'b', value: true });
  assert.throws(() => typed('2.5', 'i'), /int32 item: it has a fraction/);
  assert.throws(() => typed('"23.41"', 'd'), /numbers must be JSON numbers/);
  assert.throws(() => typed('70000', 'n'), /outside -32768…32767/);
  assert.throws(() => typed('-1', 'u'), /outside/);
  assert.throws(() => typed('9007199254740993', 'd'), /cannot hold it exactly/);
  assert.throws(() => typed('3', 's'), /strings must be JSON strings/);
  assert.deepEqual(typed('null', 'd'), { signature: 'ai', value: [] }, 'null always means invalid');
});

test('the JSON parser keeps integer/float literals and refuses what JSON refuses', () => {
  assert.deepEqual(parseJsonLiteral(' {"value": 1 } '), { kind: 'object', entries: new Map([['value', { kind: 'int', value: 1n }]]) });
  for (const bad of ['not json', '{"value":NaN}', '{"value":Infinity}', '{"a":1,}', '[1', '"\u0001"', '{} x', '01']) {
    assert.throws(() => parseJsonLiteral(bad), JsonSyntaxError, bad);
  }
  assert.throws(() => parseJsonLiteral('['.repeat(100) + ']'.repeat(100)), /nesting deeper/);
  assert.equal((parseJsonLiteral('"a\\u00e9\\n"') as { value: string }).value, 'aé\n');
});
