// Search over the catalogue for a path picker: does a path match what the user typed?
import { describePath, serviceTypeLabel, shortType } from './lookup';

/**
 * true when every word of the query (case-insensitive, in any order) occurs in the path, its
 * label, its unit, or the service type or its label: 'battery soc', 'ac l1 power', '/Dc/0'.
 * An empty query matches everything; a path the catalogue does not know matches on its path
 * and service type only.
 */
export function matchesQuery(serviceType: string, path: string, query: string): boolean {
  if (typeof query !== 'string') return false;
  const words = query.toLowerCase().split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) return true;
  if (typeof serviceType !== 'string' || typeof path !== 'string') return false;
  const d = describePath(serviceType, path);
  const type = shortType(serviceType);
  const text = `${path}\n${type}\n${serviceTypeLabel(type) ?? ''}\n${d?.label ?? ''}\n${d?.unit ?? ''}`.toLowerCase();
  return words.every((w) => text.includes(w));
}
