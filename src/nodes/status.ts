// One status vocabulary for every node (spec/node-red-notes.md C4, recommendation 12):
// red ring = disconnected or failed, yellow ring = connecting, yellow dot = busy (writing,
// reading), green dot = connected or ok, grey = idle, blue = informational.

export type Fill = 'red' | 'green' | 'yellow' | 'blue' | 'grey';
export type Shape = 'ring' | 'dot';

export interface NodeStatus {
  fill?: Fill;
  shape?: Shape;
  text?: string;
}

/** Status texts are i18n keys of the node set ("<type>.status.<key>") or plain text. */
export const Status = {
  disconnected: (text = 'disconnected'): NodeStatus => ({ fill: 'red', shape: 'ring', text }),
  connecting: (text = 'connecting'): NodeStatus => ({ fill: 'yellow', shape: 'ring', text }),
  connected: (text = 'connected'): NodeStatus => ({ fill: 'green', shape: 'dot', text }),
  busy: (text: string): NodeStatus => ({ fill: 'yellow', shape: 'dot', text }),
  ok: (text: string): NodeStatus => ({ fill: 'green', shape: 'dot', text }),
  failed: (text: string): NodeStatus => ({ fill: 'red', shape: 'ring', text: clip(text) }),
  idle: (text: string): NodeStatus => ({ fill: 'grey', shape: 'ring', text }),
  info: (text: string): NodeStatus => ({ fill: 'blue', shape: 'dot', text }),
  clear: (): NodeStatus => ({}),
};

/** Keeps status texts short: the editor shows about 20 characters well. */
export function clip(text: string, max = 32): string {
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}
