// The engine's public vocabulary: what it emits and what its parts share. Kept apart from the
// engine itself so that the protocol, read and write modules can use it without importing the
// engine (and without a cycle).
import type { Item, ItemCache, Service } from './item-cache';
import { ItemAddress, requestType } from './topics';

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** One MQTT message for the broker link. */
export interface OutMessage {
  topic: string;
  payload: string;
  retain: boolean;
}

export type UpdateCause = 'scan' | 'change' | 'read' | 'vanish';

/** A change of the cache, for flow nodes (emitted whether or not the system is alive). */
export interface ItemUpdate {
  cause: UpdateCause;
  service: Service;
  item: Item;
  topic: string;
  /** the notification payload; '' when the service vanished */
  payload: string;
}

/** A request (R or W, from MQTT or a flow) that cannot be carried out, with the reason. */
export class RequestError extends Error {}

/**
 * What the engine's parts (the two keep-alive protocols, reads, writes) need from the engine:
 * the cache, the portal, the publish path, events and the log.
 */
export interface EngineHost {
  readonly cache: ItemCache;
  readonly portalId: string | undefined;
  readonly logger: Logger;
  /** the GX is there: its source connected, not stale, its first scan done (see GxEngine.sourceLive) */
  readonly sourceLive: boolean;
  /** one outgoing MQTT message (the broker link writes it; flows may watch it) */
  out(topic: string, payload: string, retain: boolean): void;
  /** an item as a notification, through the protocol's retain rules (N5, N7; legacy N5/R8) */
  publishItem(service: Service, item: Item, readReply?: boolean): void;
  /** an update event for flow nodes */
  update(cause: UpdateCause, service: Service, item: Item): void;
  emit(event: string | symbol, ...args: unknown[]): boolean;
}

export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

/** `system/0/Serial`: retained in F and never unpublished (N7, S1). */
export function isSerialItem(service: Service, item: Item): boolean {
  return service.type === 'system' && service.instance === '0' && item.path === '/Serial';
}

/**
 * The service an R/W address routes to (I5, I7 as topics.ts requestType reads it: a full bus
 * name must be that service's own), or a RequestError that says why not.
 */
export function routeOf(cache: ItemCache, addr: ItemAddress): Service {
  let t;
  try {
    t = requestType(addr.type);
  } catch (e) {
    throw new RequestError((e as Error).message);
  }
  const busName = addr.busName ?? t.busName;
  const service = cache.route(t.type, addr.instance);
  if (service && busName !== undefined && service.busName === undefined) {
    throw new RequestError(`can't find ${busName}/${addr.instance}: the GX has not told the bus name of ${service.label} ` +
      `(system/0/ServiceMapping); use ${t.type}/${addr.instance}`);
  }
  if (!service || (busName !== undefined && service.busName !== busName)) {
    throw new RequestError(`can't find a D-Bus service for ${busName ?? t.type}/${addr.instance}`);
  }
  return service;
}
