// The engine's input side: where services and their items come from. The D-Bus tracker in
// src/dbus implements it; a second source (a remote GX reached over MQTT) can plug in beside
// it without touching the engine.
import { EventEmitter } from 'events';
import { TypedValue } from './typed-value';

export interface SourceItem {
  path: string;
  /** absent for a change that only carries Min/Max (D10) */
  value?: TypedValue;
  min?: TypedValue;
  max?: TypedValue;
}

export type SourceState = 'connecting' | 'connected' | 'disconnected' | 'closed';

/**
 * Events:
 * - `service` (name, items): a service was scanned (new, or re-scanned after an owner change)
 * - `changes` (name, items): values (and/or min/max) changed
 * - `service-gone` (name): the service left the bus
 * - `state` (state, detail?): connection state; on 'disconnected' every service is gone
 * - `log` (level, text)
 */
export interface ItemSource extends EventEmitter {
  readonly state: SourceState;
  start(): void;
  stop(): Promise<void>;
  /** GetValue on a path of a service (a sub-tree path gives a dict of relative paths). */
  getValue(service: string, path: string): Promise<TypedValue>;
  /** SetValue; resolves with the service's return code (0 = ok). */
  setValue(service: string, path: string, value: TypedValue): Promise<number>;
}
