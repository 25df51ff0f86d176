// Typing written values (spec W4 and Appendix A.1), with the item's own type where known, and
// the JSON parser behind W payloads.
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
  assert.deepEqual(typed('"30"'), { signature: 's', value: '30' }, 'a string stays a string where the type is not known');
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

test("to the item's own type: converted without loss, or refused with the reason", () => {
  assert.deepEqual(typed('100', 'd'), { signature: 'd', value: 100 });
  assert.deepEqual(typed('100.0', 'i'), { signature: 'i', value: 100 });
  assert.deepEqual(typed('-44', 'i'), { signature: 'i', value: -44 });
  assert.deepEqual(typed('40000', 'i'), { signature: 'i', value: 40000 });
  assert.deepEqual(typed('5', 'x'), { signature: 'x', value: 5n });
  assert.deepEqual(typed('-9223372036854775808', 'x'), { signature: 'x', value: -9223372036854775808n });
  assert.deepEqual(typed('1', 'b'), { signature: 'b', value: true });
  assert.throws(() => typed('2.5', 'i'), /to an int32 item: it has a fraction/);
  assert.throws(() => typed('70000', 'n'), /outside -32768…32767/);
  assert.throws(() => typed('-1', 'u'), /outside/);
  assert.throws(() => typed('9007199254740993', 'd'), /cannot hold it exactly/);
  assert.throws(() => typed('1e-400', 'd'), /number 1e-400 to a double item: too small for a double/);
  assert.deepEqual(typed('0e-400', 'd'), { signature: 'd', value: 0 }, 'a zero is a zero');
  assert.throws(() => typed('true', 's'), /boolean true to a string item/);
  assert.deepEqual(typed('null', 'd'), { signature: 'ai', value: [] }, 'null always means invalid');
});

test('lossless across kinds: numeric strings to numeric items, numbers to string items (issue 11 #10)', () => {
  // a string that is exactly a JSON number is that number
  assert.deepEqual(typed('"30"', 'd'), { signature: 'd', value: 30 });
  assert.deepEqual(typed('"-2.5"', 'd'), { signature: 'd', value: -2.5 });
  assert.deepEqual(typed('"1e3"', 'i'), { signature: 'i', value: 1000 });
  assert.deepEqual(typed('"30"', 'i'), { signature: 'i', value: 30 });
  assert.deepEqual(typed('"300"', 'x'), { signature: 'x', value: 300n });
  assert.deepEqual(typed('["1","2.5"]', 'ad'), { signature: 'ad', value: [1, 2.5] });
  // anything lossy or not exactly a number is refused, with the reason
  const refused: Array<[string, string, RegExp]> = [
    ['"12.5"', 'i', /string "12.5" to an int32 item: it has a fraction/],
    ['12.5', 'i', /number 12.5 to an int32 item: it has a fraction/],
    ['"1e400"', 'd', /string "1e400" to a double item: 1e400 is beyond the range of a double/],
    ['"0x10"', 'i', /string "0x10" to an int32 item: it is not exactly a number/],
    ['" 30"', 'd', /string " 30" to a double item: it is not exactly a number/],
    ['"30 "', 'd', /not exactly a number/],
    ['"+30"', 'd', /not exactly a number/],
    ['""', 'd', /string "" to a double item: it is not exactly a number/],
    ['"NaN"', 'd', /not exactly a number/],
    ['"Infinity"', 'd', /not exactly a number/],
    ['"030"', 'i', /not exactly a number/],
    ['"70000"', 'n', /string "70000" to an int16 item: outside -32768…32767/],
    ['"9007199254740993"', 'd', /cannot hold it exactly/],
    ['"1"', 'b', /string "1" to a boolean item/],
  ];
  for (const [json, sig, re] of refused) assert.throws(() => typed(json, sig), re, json);
  // a number to a string item is its JSON text, as written
  assert.deepEqual(typed('12', 's'), { signature: 's', value: '12' });
  assert.deepEqual(typed('12.50', 's'), { signature: 's', value: '12.50' });
  assert.deepEqual(typed('-1e3', 's'), { signature: 's', value: '-1e3' });
  assert.deepEqual(typed('9223372036854775808000', 's'), { signature: 's', value: '9223372036854775808000' });
});

test('the JSON parser keeps integer/float literals and refuses what JSON refuses', () => {
  assert.deepEqual(parseJsonLiteral(' {"value": 1 } '), { kind: 'object', entries: new Map([['value', { kind: 'int', value: 1n, text: '1' }]]) });
  for (const bad of ['not json', '{"value":NaN}', '{"value":Infinity}', '{"a":1,}', '[1', '"\u0001"', '{} x', '01', '-', '1.', '.5', '+1']) {
    assert.throws(() => parseJsonLiteral(bad), JsonSyntaxError, bad);
  }
  assert.throws(() => parseJsonLiteral('['.repeat(100) + ']'.repeat(100)), /nesting deeper/);
  assert.equal((parseJsonLiteral('"a\\u00e9\\n"') as { value: string }).value, 'aé\n');
  assert.equal((parseJsonLiteral('"\\ud83d\\ude00"') as { value: string }).value, '😀');
});

test('the JSON parser refuses what is ambiguous or cannot be Unicode: duplicate keys, lone surrogates, 1e400', () => {
  assert.throws(() => parseJsonLiteral('{"value":1,"value":2}'), /the key "value" is there twice \(ambiguous\)/);
  assert.throws(() => parseJsonLiteral('{"value":{"a":1,"a":1}}'), /twice/);
  assert.throws(() => parseJsonLiteral('{"value":"\\ud800"}'), /lone surrogate \\ud800/);
  assert.throws(() => parseJsonLiteral('{"value":"\\udc00x"}'), /lone surrogate \\udc00/);
  assert.throws(() => parseJsonLiteral('{"value":1e400}'), /1e400 is beyond the range of a double/);
  assert.throws(() => parseJsonLiteral(`{"value":${'9'.repeat(401)}}`), /longer than 400 characters/);
  // a huge integer literal within the limit is read exactly (and refused later as beyond 64 bits)
  assert.equal((parseJsonLiteral('9'.repeat(400)) as { value: bigint }).value, BigInt('9'.repeat(400)));
});
