// How large a write may be, and what its strings may hold. A GX needs strings of a few hundred
// bytes (names, settings as JSON text: a few kB at most) and arrays of a few hundred elements;
// dbus-daemon drops a connection that sends a message above its limit (tens of MB) or an
// invalid one, and with it every service's data. So a write is refused long before that, and
// before anything is parsed where the size is known (the MQTT payload's bytes).
import type { JsonLiteral } from './json-literal';
import { loneSurrogateAt } from './utf8';

export const WRITE_LIMITS = {
  /** bytes of a W payload (the JSON text) */
  payloadBytes: 64 * 1024,
  /** UTF-8 bytes of one string value */
  stringBytes: 16 * 1024,
  /** UTF-8 bytes of all the strings of one value together */
  totalStringBytes: 64 * 1024,
  /** elements of all the arrays of one value together */
  arrayElements: 1024,
  /** arrays inside arrays ([[1]] is 2); D-Bus itself allows 32 */
  arrayDepth: 8,
  /** UTF-8 bytes of a `caller_id` (echoed in S/ replies) */
  callerIdBytes: 256,
} as const;

export class WriteLimitError extends Error {}

export function kib(n: number): string {
  return n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;
}

/**
 * Checks a value before it is converted: its size, and that its strings are text D-Bus can
 * carry (no NUL, no lone surrogate). Throws WriteLimitError with the reason.
 */
export function checkWriteValue(lit: JsonLiteral): void {
  let elements = 0;
  let stringBytes = 0;
  const walk = (l: JsonLiteral, depth: number): void => {
    if (l.kind === 'string') {
      const bytes = Buffer.byteLength(l.value, 'utf8');
      if (bytes > WRITE_LIMITS.stringBytes) {
        throw new WriteLimitError(`a string of ${bytes} bytes is longer than the ${kib(WRITE_LIMITS.stringBytes)} a write may carry`);
      }
      stringBytes += bytes;
      if (stringBytes > WRITE_LIMITS.totalStringBytes) {
        throw new WriteLimitError(`the strings of this value are more than the ${kib(WRITE_LIMITS.totalStringBytes)} a write may carry`);
      }
      if (l.value.includes('\0')) throw new WriteLimitError('a string with a NUL character (D-Bus strings cannot hold one)');
      const at = loneSurrogateAt(l.value);
      if (at >= 0) {
        throw new WriteLimitError(`a string with a lone surrogate \\u${l.value.charCodeAt(at).toString(16)} at index ${at} (not Unicode text, so not UTF-8)`);
      }
    } else if (l.kind === 'array') {
      if (depth >= WRITE_LIMITS.arrayDepth) throw new WriteLimitError(`arrays nested deeper than ${WRITE_LIMITS.arrayDepth}`);
      elements += l.items.length;
      if (elements > WRITE_LIMITS.arrayElements) {
        throw new WriteLimitError(`more than ${WRITE_LIMITS.arrayElements} array elements (the most a write may carry)`);
      }
      for (const item of l.items) walk(item, depth + 1);
    } else if (l.kind === 'object') {
      for (const v of l.entries.values()) walk(v, depth);
    }
  };
  walk(lit, 0);
}
