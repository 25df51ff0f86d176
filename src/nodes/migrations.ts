// Versioned settings of the gx-config node, as node-red-contrib-home-assistant-websocket does it:
// the node's `version` (absent in flows saved before versions: 0), and ordered steps, each
// bringing the settings from the version before to its own. migrate() runs the steps a node
// still needs, at runtime before the node is built and in the editor when the node is opened, so
// that a flow saved by an older release opens and runs as it did. A step never removes what the
// user set, and never touches credentials (they are not part of the settings).
//
// This file imports nothing: the editor loads its compiled code as it is (gx-config.ts serves it).

export interface Migration {
  /** the version the step produces */
  version: number;
  /** what changed, for the log and the tests */
  what: string;
  up(config: Record<string, unknown>): Record<string, unknown>;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    what: 'the GX can be reached over MQTT too: settings saved before reach it over D-Bus, as they did',
    up: (c) => ({
      ...c,
      source: c.source === undefined || c.source === '' ? 'dbus' : c.source,
      topicPrefix: c.topicPrefix ?? '',
    }),
  },
];

/** The version new gx-config nodes get, and migrate() ends at. */
export const CONFIG_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** The version a node's settings claim: a missing or unreadable one is 0 (from before versions). */
export function versionOf(config: { version?: unknown }): number {
  const v = Number(config.version);
  return Number.isInteger(v) && v >= 0 ? v : 0;
}

/**
 * The settings brought up to CONFIG_VERSION, step by step (a copy; the input is not changed).
 * Settings from a newer release than this one are left as they are.
 */
export function migrate<T extends object>(config: T): T & { version: number } {
  let c = { ...config } as Record<string, unknown>;
  let version = versionOf(c);
  for (const m of MIGRATIONS) {
    if (m.version <= version) continue;
    c = m.up(c);
    version = m.version;
  }
  c.version = version;
  return c as T & { version: number };
}
