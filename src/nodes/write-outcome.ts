// How gx-write shows a write that went out: "written <value>" when the GX confirmed it (D-Bus
// answered, or a GX over MQTT replied on S/ or showed the value in its next notification), and
// "sent, not confirmed" when a GX over MQTT said nothing within 5 s. That one is not a failure
// (nothing refused it: payload.ok is true and done() gets no error, so Catch nodes stay quiet),
// but not a certainty either: the item may be read-only on the GX, the GX may have changed or
// clamped the value, or it answers slowly. Flows that must be sure check
// msg.payload.confirmation; the log says so once per item.
import type { FlowWriteResult } from './write-controller';
import { NodeStatus, Status } from './status';

export const UNCONFIRMED_TEXT = 'sent, not confirmed';

export function writtenStatus(result: FlowWriteResult): NodeStatus {
  if (result.confirmation === 'unconfirmed') return Status.uncertain(UNCONFIRMED_TEXT);
  let s: string;
  try {
    s = JSON.stringify(result.value) ?? String(result.value);
  } catch {
    s = String(result.value);
  }
  return Status.ok(`written ${s}`);
}

/** One warning per item whose writes the GX does not confirm (not one per write). */
export class UnconfirmedLog {
  private readonly warned = new Set<string>();

  constructor(private readonly warn: (text: string) => void, private readonly max = 100) {}

  note(result: FlowWriteResult): void {
    if (!result.ok || result.confirmation !== 'unconfirmed') return;
    const key = result.topic ?? '';
    if (this.warned.has(key) || this.warned.size >= this.max) return;
    this.warned.add(key);
    this.warn(`write to ${result.topic}: sent, but the GX did not confirm it (no reply, and no notification showed the value ` +
      'within 5 s): the item may be read-only on the GX, the GX may have changed the value, or it answers slowly. ' +
      'msg.payload.confirmation is "unconfirmed"; said once per item');
  }
}
