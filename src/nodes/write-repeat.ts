// gx-write's "repeat every N s" settings and the status of what it holds.
import type { Hold, KeeperOptions } from './setpoint-keeper';
import { STATUS_MAX } from './status';

export interface KeeperDef {
  /** seconds between repeats; '' or 0 = off (the default) */
  repeat?: number | string;
  /** seconds without a new value after which the hold ends (default HOLD_DEFAULT_S) */
  hold?: number | string;
  /** send a result message for every repeat, not only for the first failure */
  repeatOutput?: boolean | string;
}

/** The hold time when the node gives none: a dead upstream flow lets the GX take over after 5 min. */
export const HOLD_DEFAULT_S = 300;
/** The longest hold time: a day without a new value. */
export const HOLD_MAX_S = 86400;
/** The shortest repeat interval the runtime takes (the editor asks for at least 1 s). */
export const REPEAT_MIN_S = 0.05;

/** The keeper's options, undefined when repeating is off; throws with the reason on a bad setting. */
export function keeperOptionsOf(def: KeeperDef): KeeperOptions | undefined {
  const empty = (v: unknown) => v === undefined || v === null || String(v).trim() === '';
  if (empty(def.repeat) || Number(def.repeat) === 0) return undefined;
  const repeat = Number(def.repeat);
  if (!Number.isFinite(repeat) || repeat < REPEAT_MIN_S) {
    throw new Error(`"repeat every" must be a number of seconds (empty or 0: off), not '${String(def.repeat)}'`);
  }
  const hold = empty(def.hold) ? HOLD_DEFAULT_S : Number(def.hold);
  if (!Number.isFinite(hold) || hold < repeat || hold > HOLD_MAX_S) {
    throw new Error(`"stop repeating after" must be a number of seconds from the repeat interval (${repeat} s) to ${HOLD_MAX_S} s, ` +
      `not '${String(def.hold)}'`);
  }
  return { repeatMs: repeat * 1000, holdMs: hold * 1000 };
}

/**
 * "hold -200 → 14:05": the value held (or how many items) and when the hold ends without a new
 * value: with seconds when the end is under two minutes away and it fits, else HH:MM, else no time.
 */
export function holdStatusText(holds: readonly Hold<unknown>[], now = Date.now()): string {
  const what = holds.length === 1 ? `hold ${valueText(holds[0].value)}` : `hold ${holds.length} items`;
  const until = new Date(Math.min(...holds.map((h) => h.until)));
  const two = (n: number) => String(n).padStart(2, '0');
  const hm = `${two(until.getHours())}:${two(until.getMinutes())}`;
  const times = until.getTime() - now < 120000 ? [`${hm}:${two(until.getSeconds())}`, hm] : [hm];
  for (const t of times) if (`${what} → ${t}`.length <= STATUS_MAX) return `${what} → ${t}`;
  return what.length <= STATUS_MAX ? what : what.slice(0, STATUS_MAX - 1) + '…';
}

function valueText(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
