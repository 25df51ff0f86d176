// Why the D-Bus connection is down, in a few words for a node status, from the reason the
// source gives with its 'disconnected' state ("D-Bus error: connect ENOENT /run/…/bus.sock",
// "no answer from tcp:host=…"). The full reason goes to the log.

export function dbusReasonOf(detail: string | undefined): string {
  const d = detail ?? '';
  if (/\bENOENT\b/.test(d)) return 'no D-Bus socket';
  if (/\bECONNREFUSED\b/.test(d)) return 'D-Bus refused';
  if (/\b(EACCES|EPERM)\b/.test(d)) return 'D-Bus access denied';
  if (/\b(ENOTFOUND|EAI_AGAIN)\b/.test(d)) return 'D-Bus host unknown';
  if (/\b(EHOSTUNREACH|ENETUNREACH)\b/.test(d)) return 'D-Bus unreachable';
  if (/\bETIMEDOUT\b|no answer from|timed out/i.test(d)) return 'D-Bus timeout';
  if (/auth|EXTERNAL|ANONYMOUS|DBUS_COOKIE/i.test(d)) return 'D-Bus auth failed';
  return 'disconnected';
}
