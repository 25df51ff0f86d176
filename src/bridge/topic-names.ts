// What may stand in an MQTT topic name. A GetItems key, an ItemsChanged key or an /Identifier
// is any D-Bus string; published as it is, a '+', '#' or control character makes the broker
// drop the connection (mosquitto closes it with a protocol error), and every other service's
// notifications go with it (issue 14 #1). The item cache checks each item path and each
// service's instance once, when they enter it (item-cache.ts), so publishing never has to.

/** MQTT's limit for a topic name: a two-byte length in UTF-8 bytes. */
export const MAX_TOPIC_BYTES = 65535;

// Wildcards (MQTT 3.1.1 §4.7.1: never in a topic name), every control character (U+0000 is
// forbidden, U+0001–U+001F and U+007F–U+009F are "SHOULD NOT"; mosquitto refuses them), the
// Unicode non-characters (U+FDD0–U+FDEF, U+xFFFE, U+xFFFF; mosquitto refuses them too), and
// lone UTF-16 surrogates, which have no UTF-8 form (§1.5.3). In 'u' mode a proper surrogate
// pair is one code point, so the surrogate range matches only unpaired halves.
const FORBIDDEN = /[+#\p{Cc}\p{Noncharacter_Code_Point}\uD800-\uDFFF]/u;

/** Why `text` cannot be part of a topic name, or undefined when it can. */
export function topicTextProblem(text: string): string | undefined {
  const m = FORBIDDEN.exec(text);
  if (!m) return undefined;
  const c = m[0];
  if (c === '+' || c === '#') return `it contains the MQTT wildcard '${c}'`;
  const code = c.codePointAt(0)!;
  const hex = 'U+' + code.toString(16).toUpperCase().padStart(4, '0');
  if (code >= 0xd800 && code <= 0xdfff) return `it contains an unpaired UTF-16 surrogate (${hex}), which has no UTF-8 form`;
  if (code <= 0x9f) return `it contains the control character ${hex}`;
  return `it contains the Unicode non-character ${hex}`;
}

/** Why `text` cannot be one level of a topic name (an instance, a portal ID), or undefined. */
export function topicLevelProblem(text: string): string | undefined {
  if (text === '') return 'it is empty';
  if (text.includes('/')) return "it contains '/'";
  return topicTextProblem(text);
}

/** UTF-8 length of a string. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
