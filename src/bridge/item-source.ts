// The engine's input side: where services and their items come from. The D-Bus tracker in
// src/dbus implements it; a second source (a remote GX reached over MQTT) implements it beside
// it. The engine imports neither.
import { EventEmitter } from 'events';
import { TypedValue } from './typed-value';

export interface SourceItem {
  path: string;
  /** absent for a change that only carries Min/Max (D10) */
  value?: TypedValue;
  min?: TypedValue;
  max?: TypedValue;
  /** the service's own text for the value (GetItems / ItemsChanged `Text`: "57.04V", "Bulk") */
  text?: string;
}

/** What a source knows of a service beyond its items. */
export interface ServiceInfo {
  /**
   * The instance as topics show it, when the source knows it directly (a GX over MQTT has it
   * in the topic). Without it the engine works it out from the items (I2).
   */
  instance?: string;
  /**
   * The source made the service's name up (a GX over MQTT: its topics carry no bus names, so
   * `com.victronenergy.<type>.mqtt_<instance>`): messages call it `<type>/<instance>`, and a
   * full bus name in R/W reaches it only as `busName`.
   */
  synthetic?: boolean;
  /** a synthetic service's D-Bus name on the GX, when the source knows it (later: 'bus-name') */
  busName?: string;
}

export type SourceState = 'connecting' | 'connected' | 'disconnected' | 'closed';

/** How a write ended, as far as the source can tell. */
export interface SetValueOutcome {
  /** the service's return code: 0 ok, 1 not writeable or could not convert, 2 rejected */
  code: number;
  /**
   * How the outcome is known: `reply` = the bus (or a bridge's S/ reply) answered;
   * `notification` = no reply, but the item's next notification showed the value;
   * `unconfirmed` = sent, and nothing came back in time.
   */
  confirmation: 'reply' | 'notification' | 'unconfirmed';
}

/**
 * Events:
 * - `service` (name, items, info?): a service was scanned (new, or re-scanned after an owner change);
 *   for a service already known, these items replace its old ones: those not listed are emptied
 * - `changes` (name, items): values (and/or min/max) changed
 * - `service-gone` (name): the service left
 * - `bus-name` (name, busName?): the D-Bus name of a synthetic service became known, changed or
 *   was forgotten (see ServiceInfo.busName)
 * - `scanned` (count): every service found on connecting has been scanned: the cache is complete
 * - `state` (state, detail?): connection state; on 'disconnected' every service is gone
 * - `stale` (stale, detail?): the source is connected but hears nothing from the GX (remote
 *   sources only); values are kept, and the source recovers by itself
 * - `log` (level, text)
 */
export interface ItemSource extends EventEmitter {
  readonly state: SourceState;
  /** connected, but nothing heard from the GX for too long (remote sources; D-Bus: never) */
  readonly stale?: boolean;
  /** where it connects to, for logs and status (no credentials) */
  readonly label?: string;
  start(): void;
  stop(): Promise<void>;
  /** GetValue on a path of a service (a sub-tree path gives a dict of relative paths). */
  getValue(service: string, path: string): Promise<TypedValue>;
  /**
   * SetValue; resolves with the service's return code and how it is known. A refusal rejects
   * with an Error whose `errorName` (the D-Bus error name) or `busError` (the GX's own bus_error,
   * over MQTT) is passed on as it is in S/ replies.
   */
  setValue(service: string, path: string, value: TypedValue): Promise<SetValueOutcome>;
}
