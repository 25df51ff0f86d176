// Which items may be written: all, none, or only those matching MQTT-style filters over
// `<type>/<instance>/<path>` (e.g. `vebus/+/Hub4/#`, `settings/0/Settings/CGwacs/#`).
import { isValidFilter, ItemAddress, topicMatches } from './topics';

export type WritePolicyMode = 'all' | 'none' | 'patterns';

export interface WritePolicy {
  mode: WritePolicyMode;
  patterns?: string[];
}

export function checkWritePolicy(policy: WritePolicy, addr: ItemAddress): string | undefined {
  if (policy.mode === 'all') return undefined;
  if (policy.mode === 'none') return 'writes are disabled (read-only write policy)';
  const short = `${addr.type}/${addr.instance}${addr.path}`;
  if ((policy.patterns ?? []).some((p) => topicMatches(p, short))) return undefined;
  return `'${short}' is not allowed by the write policy`;
}

/** Parses a list of filters from text (comma or newline separated); throws on a bad one. */
export function parseWritePatterns(text: string): string[] {
  const list = text.split(/[\n,]/).map((s) => s.trim().replace(/^\/+/, '')).filter(Boolean);
  for (const p of list) if (!isValidFilter(p)) throw new Error(`invalid write pattern '${p}'`);
  return list;
}
