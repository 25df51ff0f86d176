// Topics and payloads in log lines: cut to a readable length, with the full length said, so a
// 64 kB topic costs a log line, not 64 kB of log.

export const LOG_TEXT_MAX = 200;

export function logText(s: string, max = LOG_TEXT_MAX): string {
  if (s.length <= max) return s;
  let end = max;
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--; // not half a surrogate pair
  return `${s.slice(0, end)}… (${s.length} characters)`;
}
