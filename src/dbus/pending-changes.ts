// Changes a service signals before its scan is in (spec D14, improved): only the newest value
// (and min/max) per path is kept, for a bounded number of paths, so a service that floods
// ItemsChanged while it keeps its GetItems answer back costs a map of its paths, not a queue of
// every signal (issue 14 #5: 5 M values in 15 s took the bridge from 128 MB to 978 MB).
//
// When the scan is in, these changes are applied over its reply (issue 14 #6). dbus-flashmq
// assumes the reply holds values newer than the signals that came before it; that holds for a
// service that answers at once (velib), but an asynchronous service answers with the snapshot it
// took when called, and what it signalled meanwhile is newer. A signalled value is always the
// service's value at some time since it appeared; for a path it signalled, the newest signal
// is its current value (a service signals every change, D15), whichever way it answers GetItems.
// Re-reading those paths with GetValue instead would cost one call per signalled path (all of
// them, under a flood) and could race with the next signal just the same.
import type { SourceItem } from '../bridge/item-source';

/** Paths kept across every service with a scan pending; one budget for the whole tracker. */
export interface PendingBudget {
  used: number;
  readonly max: number;
}

export class PendingChanges {
  private readonly byPath = new Map<string, SourceItem>();
  /** changes for new paths left out because a bound was reached */
  dropped = 0;

  constructor(private readonly budget: PendingBudget, private readonly maxPaths: number) {}

  get size(): number {
    return this.byPath.size;
  }

  add(items: SourceItem[]): void {
    for (const si of items) {
      const kept = this.byPath.get(si.path);
      if (kept) {
        if (si.value) {
          kept.value = si.value;
          kept.text = si.text; // a text belongs to its value
        }
        if (si.min) kept.min = si.min;
        if (si.max) kept.max = si.max;
      } else if (this.byPath.size >= this.maxPaths || this.budget.used >= this.budget.max) {
        this.dropped++;
      } else {
        this.byPath.set(si.path, { ...si });
        this.budget.used++;
      }
    }
  }

  /** The scan's items with the kept changes applied over them, then the paths it did not list (D12). Empties the queue. */
  applyTo(scanned: SourceItem[]): SourceItem[] {
    if (this.byPath.size === 0) return scanned;
    const out = scanned.map((s) => {
      const c = this.byPath.get(s.path);
      if (!c) return s;
      return {
        path: s.path,
        value: c.value ?? s.value,
        text: c.value ? c.text : s.text,
        min: c.min ?? s.min,
        max: c.max ?? s.max,
      };
    });
    const listed = new Set(scanned.map((s) => s.path));
    for (const c of this.byPath.values()) if (!listed.has(c.path)) out.push(c);
    this.clear();
    return out;
  }

  clear(): void {
    this.budget.used -= this.byPath.size;
    this.byPath.clear();
  }
}
