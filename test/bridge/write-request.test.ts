// W payloads before they reach the item: size first, then UTF-8, then JSON, value and the
// reply fields; and the S/ reply texts (issue 14 #2, #3; issue 15).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { invalidUtf8At, loneSurrogateAt } from '../../src/bridge/utf8';
import { parseWriteRequest, WriteRequestError } from '../../src/bridge/write-request';
import { errorReply, replyTopic, successReply } from '../../src/bridge/write-reply';
import { checkWriteValue, WRITE_LIMITS } from '../../src/bridge/write-limits';
import { literalFromJs, parseJsonLiteral } from '../../src/bridge/json-literal';

const refusal = (payload: Buffer | string): WriteRequestError => {
  try {
    parseWriteRequest(payload);
  } catch (e) {
    assert.ok(e instanceof WriteRequestError, String(e));
    return e;
  }
  throw new Error(`accepted ${String(payload).slice(0, 80)}`);
};

test('UTF-8: well-formed text passes, anything else is found at its first bad byte', () => {
  for (const s of ['', 'abc', 'é', '€', '😀', '\u{10ffff}', '\ud7ff', '\ue000']) assert.equal(invalidUtf8At(Buffer.from(s)), -1, s);
  const bad: Array<[number[], number]> = [
    [[0xc3, 0x28], 0], [[0x61, 0xc3], 1], [[0x80], 0], [[0xc0, 0x80], 0], [[0xc1, 0xbf], 0], [[0xe0, 0x80, 0x80], 0],
    [[0xed, 0xa0, 0x80], 0], [[0xf0, 0x80, 0x80, 0x80], 0], [[0xf4, 0x90, 0x80, 0x80], 0], [[0xf5, 0x80, 0x80, 0x80], 0],
    [[0xff], 0], [[0x61, 0x62, 0xe2, 0x82], 2], [[0xe2, 0x28, 0xa1], 0],
  ];
  for (const [bytes, at] of bad) assert.equal(invalidUtf8At(Buffer.from(bytes)), at, Buffer.from(bytes).toString('hex'));
  // it agrees with the WHATWG decoder (fatal) on any bytes
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 12 }), (b) => {
    let ok = true;
    try { decoder.decode(b); } catch { ok = false; }
    return ok === (invalidUtf8At(b) === -1);
  }), { numRuns: 20000 });
  assert.equal(loneSurrogateAt('a\ud800'), 1);
  assert.equal(loneSurrogateAt('\udc00'), 0);
  assert.equal(loneSurrogateAt('😀x'), -1);
});

test('refused before anything is parsed: more bytes than the limit, bytes that are not UTF-8', () => {
  const huge = Buffer.alloc(100 * 1024 * 1024, 0x20); // 100 MB of spaces: only its length is looked at
  const t0 = process.hrtime.bigint();
  assert.match(refusal(huge).message, /the payload is 104857600 bytes, more than the 64 KiB a write request may have/);
  assert.ok(process.hrtime.bigint() - t0 < 50_000_000n, 'a length comparison, not a parse');
  const justOver = `{"value":"${'x'.repeat(WRITE_LIMITS.payloadBytes)}"}`;
  assert.match(refusal(justOver).message, /more than the 64 KiB/);
  assert.match(refusal(Buffer.from([...Buffer.from('{"value":"'), 0xc3, 0x28, ...Buffer.from('"}')])).message,
    /the payload is not valid UTF-8 \(byte 0xc3 at offset 10\)/);
  assert.match(refusal('{"value":"\ud800"}').message, /not Unicode text \(a lone surrogate at index 10\)/);
  assert.match(refusal('{"value":"\\ud800"}').message, /invalid JSON: lone surrogate/);
  assert.match(refusal('{"value":1,"value":2}').message, /"value" is there twice/);
  assert.match(refusal('[1]').message, /can't find 'value'/);
  assert.deepEqual(parseWriteRequest(Buffer.from('\ufeff{"value":1}')).value, { kind: 'int', value: 1n, text: '1' }, 'a BOM is skipped');
});

test('reply fields: both, well-typed and bounded, or no reply (and why)', () => {
  const r = (json: string) => parseWriteRequest(json);
  assert.deepEqual(r('{"value":1,"serial":123,"caller_id":"MB2w7AtF"}').reply, { serial: 123n, callerId: 'MB2w7AtF' });
  assert.deepEqual(r('{"value":1,"serial":-9223372036854775808,"caller_id":""}').reply, { serial: -9223372036854775808n, callerId: '' });
  const none: Array<[string, RegExp | undefined]> = [
    ['{"value":1}', undefined],
    ['{"value":1,"serial":1}', /serial without caller_id/],
    ['{"value":1,"caller_id":"a"}', /caller_id without serial/],
    ['{"value":1,"serial":"1","caller_id":"a"}', /serial is not an integer/],
    ['{"value":1,"serial":1.0,"caller_id":"a"}', /serial is not an integer/],
    ['{"value":1,"serial":9223372036854775808,"caller_id":"a"}', /beyond 64 bits/],
    ['{"value":1,"serial":1,"caller_id":5}', /caller_id is not a string/],
    [`{"value":1,"serial":1,"caller_id":"${'x'.repeat(257)}"}`, /caller_id is longer than 256 bytes/],
  ];
  for (const [json, why] of none) {
    const req = r(json);
    assert.equal(req.reply, undefined, json);
    if (why) assert.match(req.noReply ?? '', why, json);
  }
  // a payload without value still carries its reply fields, so the refusal can be answered
  assert.deepEqual(refusal('{"serial":7,"caller_id":"x"}').reply, { serial: 7n, callerId: 'x' });
});

test('S/ reply texts: keys sorted, no spaces, strings escaped as nlohmann::json escapes them', () => {
  const to = { topic: 'W/abc/settings/0/Settings/CGwacs/Hub4Mode', serial: 123n, callerId: 'MB2w7AtF' };
  assert.equal(replyTopic(to.topic), 'S/abc/settings/0/Settings/CGwacs/Hub4Mode');
  assert.equal(successReply(to, 0), '{"caller_id":"MB2w7AtF","return_code":0,"serial":123}');
  assert.equal(errorReply(to, 'org.freedesktop.DBus.Error.UnknownMethod'),
    '{"bus_error":"org.freedesktop.DBus.Error.UnknownMethod","caller_id":"MB2w7AtF","serial":123}');
  assert.equal(successReply({ ...to, callerId: 'a"\\\n\u0001é', serial: -9223372036854775808n }, -1),
    '{"caller_id":"a\\"\\\\\\n\\u0001é","return_code":-1,"serial":-9223372036854775808}');
});

test('value limits hold for values from flows too: strings, arrays, nesting, NUL, lone surrogates', () => {
  const check = (v: unknown) => checkWriteValue(literalFromJs(v));
  check('x'.repeat(WRITE_LIMITS.stringBytes));
  check(Array.from({ length: WRITE_LIMITS.arrayElements }, () => 1));
  assert.throws(() => check('x'.repeat(WRITE_LIMITS.stringBytes + 1)), /a string of 16385 bytes is longer than the 16 KiB/);
  assert.throws(() => check('é'.repeat(WRITE_LIMITS.stringBytes / 2 + 1)), /16386 bytes/, 'counted in UTF-8 bytes');
  assert.throws(() => check(Array.from({ length: 5 }, () => 'x'.repeat(16000))), /the strings of this value are more than the 64 KiB/);
  assert.throws(() => check(Array.from({ length: WRITE_LIMITS.arrayElements + 1 }, () => 1)), /more than 1024 array elements/);
  assert.throws(() => check(JSON.parse('['.repeat(9) + ']'.repeat(9))), /arrays nested deeper than 8/);
  check(JSON.parse('['.repeat(8) + ']'.repeat(8)));
  assert.throws(() => check('a\u0000b'), /NUL character/);
  assert.throws(() => check('\ud800'), /lone surrogate \\ud800 at index 0/);
  assert.throws(() => check(['ok', 'x\udfff']), /lone surrogate \\udfff at index 1/);
  assert.throws(() => checkWriteValue(parseJsonLiteral('"a\\u0000"')), /NUL/);
});
