// One status vocabulary for every node (spec/node-red-notes.md C4, recommendation 12):
// red ring = disconnected or failed, yellow ring = connecting (or a GX over MQTT not answering),
// yellow dot = busy (writing, reading) or done without confirmation, green dot = connected or
// ok, grey = idle, blue = informational.

export type Fill = 'red' | 'green' | 'yellow' | 'blue' | 'grey';
export type Shape = 'ring' | 'dot';

export interface NodeStatus {
  fill?: Fill;
  shape?: Shape;
  text?: string;
}

/** The editor shows about 20 characters of a status well; longer texts are cut. */
export const STATUS_MAX = 20;

/** Status texts are short plain English (at most STATUS_MAX characters). */
export const Status = {
  disconnected: (text = 'disconnected'): NodeStatus => ({ fill: 'red', shape: 'ring', text: clip(text) }),
  connecting: (text = 'connecting'): NodeStatus => ({ fill: 'yellow', shape: 'ring', text: clip(text) }),
  connected: (text = 'connected'): NodeStatus => ({ fill: 'green', shape: 'dot', text: clip(text) }),
  busy: (text: string): NodeStatus => ({ fill: 'yellow', shape: 'dot', text: clip(text) }),
  /** done, but not known to have worked (a write a GX over MQTT did not confirm) */
  uncertain: (text: string): NodeStatus => ({ fill: 'yellow', shape: 'dot', text: clip(text) }),
  ok: (text: string): NodeStatus => ({ fill: 'green', shape: 'dot', text: clip(text) }),
  failed: (text: string): NodeStatus => ({ fill: 'red', shape: 'ring', text: clip(text) }),
  idle: (text: string): NodeStatus => ({ fill: 'grey', shape: 'ring', text: clip(text) }),
  info: (text: string): NodeStatus => ({ fill: 'blue', shape: 'dot', text: clip(text) }),
  clear: (): NodeStatus => ({}),
};

/** Keeps status texts short. */
export function clip(text: string, max = STATUS_MAX): string {
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

export function sameStatus(a: NodeStatus | undefined, b: NodeStatus | undefined): boolean {
  return !!a && !!b && a.fill === b.fill && a.shape === b.shape && a.text === b.text;
}

/**
 * The one place where a node's status is set: a status equal to the one shown is not sent
 * again, so Status nodes see each change once (not once per reconnect attempt).
 */
export class StatusSink {
  private shown: NodeStatus | undefined;

  constructor(private readonly out: (s: NodeStatus) => void) {}

  set(s: NodeStatus): void {
    if (sameStatus(this.shown, s)) return;
    this.shown = s;
    this.out(s);
  }

  get current(): NodeStatus | undefined {
    return this.shown;
  }
}

/** "1 item", "3 items". */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
