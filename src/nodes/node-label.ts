// The label a palette node shows in the flow when it has no name: what the catalogue calls its
// path ("Battery: State of charge", "vebus/257 ESS AC power setpoint L1"), short, or nothing
// (the editor then shows the path). Served to the editor by GET gx-catalogue/labels.
import { describePath, serviceTypeLabel } from '../catalogue';
import { shortServiceType } from '../bridge/topics';

/** Node labels longer than this are cut (with "…"): a node on the canvas is as wide as its label. */
export const NODE_LABEL_MAX = 40;
/** Targets answered per request at most. */
export const LABELS_PER_REQUEST = 500;

/**
 * The label for a node's path or filter (`<type>/<instance>/<path>`, the instance may be `+`),
 * or undefined when the catalogue does not know it (sub-trees, whole services, `#` filters,
 * unknown paths).
 *  - one device of a type with several instances: `vebus/257 ESS AC power setpoint L1`
 *  - instance 0 (the one system, settings … service) or any instance: `Battery: State of charge`
 */
export function nodeLabelOf(target: unknown): string | undefined {
  if (typeof target !== 'string') return undefined;
  const parts = target.trim().replace(/^\/+/, '').split('/');
  if (parts.length < 3 || parts.some((p) => p === '' || p === '#') || parts[0] === '+' || parts.slice(2).includes('+')) return undefined;
  const type = shortServiceType(parts[0]);
  const instance = parts[1];
  const d = describePath(type, '/' + parts.slice(2).join('/'));
  if (!d) return undefined;
  const kind = serviceTypeLabel(type) ?? type;
  const label = instance === '+' || instance === '0' ? `${kind}: ${d.label}` : `${type}/${instance} ${d.label}`;
  return label.length > NODE_LABEL_MAX ? label.slice(0, NODE_LABEL_MAX - 1).trimEnd() + '…' : label;
}

/** Labels for the editor: target → label, or null when there is none (the editor shows the path). */
export function nodeLabels(targets: unknown): Record<string, string | null> {
  const list = (Array.isArray(targets) ? targets : [targets]).filter((t): t is string => typeof t === 'string');
  // fromEntries defines own properties: a target named "__proto__" is just a key
  return Object.fromEntries(list.slice(0, LABELS_PER_REQUEST).map((t) => [t, nodeLabelOf(t) ?? null]));
}
