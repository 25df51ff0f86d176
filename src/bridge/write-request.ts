// A W request's payload (spec W1, W2) from the broker, checked in the order that costs least:
// its size in bytes before anything else (a 100 MB payload costs a comparison), then that it is
// UTF-8, then the JSON, then `value` and the optional reply fields `serial` / `caller_id`.
import { JsonLiteral, parseJsonLiteral } from './json-literal';
import { invalidUtf8At, loneSurrogateAt } from './utf8';
import { kib, WRITE_LIMITS } from './write-limits';

export interface WriteRequest {
  value: JsonLiteral;
  /** both reply fields were there and well-typed: the outcome is answered on S/ */
  reply?: { serial: bigint; callerId: string };
  /** reply fields were there but cannot be used, and why (nothing is sent on S/) */
  noReply?: string;
}

/** A payload that cannot be acted on; `reply` is set when its reply fields could be read. */
export class WriteRequestError extends Error {
  reply?: WriteRequest['reply'];
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export function parseWriteRequest(payload: Buffer | string): WriteRequest {
  const fail = (msg: string, reply?: WriteRequest['reply']): never => {
    const e = new WriteRequestError(msg);
    e.reply = reply;
    throw e;
  };
  const bytes = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
  if (bytes > WRITE_LIMITS.payloadBytes) {
    fail(`the payload is ${bytes} bytes, more than the ${kib(WRITE_LIMITS.payloadBytes)} a write request may have`);
  }
  let text: string;
  if (typeof payload === 'string') {
    const at = loneSurrogateAt(payload);
    if (at >= 0) fail(`the payload is not Unicode text (a lone surrogate at index ${at})`);
    text = payload;
  } else {
    const at = invalidUtf8At(payload);
    if (at >= 0) fail(`the payload is not valid UTF-8 (byte 0x${payload[at].toString(16).padStart(2, '0')} at offset ${at})`);
    text = payload.toString('utf8');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 byte order mark, skipped as nlohmann::json does
  let lit: JsonLiteral;
  try {
    lit = parseJsonLiteral(text);
  } catch (e) {
    const msg = (e as Error).message;
    return fail(msg.startsWith('invalid JSON') ? msg : `invalid JSON: ${msg}`);
  }
  if (lit.kind !== 'object') return fail(`can't find 'value' in the JSON payload (expected {"value": …})`);
  const { reply, noReply } = replyFields(lit.entries);
  const value = lit.entries.get('value');
  if (!value) return fail(`can't find 'value' in the JSON payload (expected {"value": …})`, reply);
  return { value, reply, noReply };
}

/** `serial` (an int64) and `caller_id` (a string of at most 256 bytes), both or neither. */
function replyFields(entries: Map<string, JsonLiteral>): Pick<WriteRequest, 'reply' | 'noReply'> {
  const serial = entries.get('serial');
  const caller = entries.get('caller_id');
  if (!serial && !caller) return {};
  if (!serial || !caller) return { noReply: `${serial ? 'serial' : 'caller_id'} without ${serial ? 'caller_id' : 'serial'}` };
  if (serial.kind !== 'int') return { noReply: 'serial is not an integer' };
  if (serial.value < INT64_MIN || serial.value > INT64_MAX) return { noReply: 'serial is beyond 64 bits' };
  if (caller.kind !== 'string') return { noReply: 'caller_id is not a string' };
  if (Buffer.byteLength(caller.value, 'utf8') > WRITE_LIMITS.callerIdBytes) {
    return { noReply: `caller_id is longer than ${WRITE_LIMITS.callerIdBytes} bytes` };
  }
  return { reply: { serial: serial.value, callerId: caller.value } };
}
