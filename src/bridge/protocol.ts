// Which notifications go out when, and retained or not: dbus-flashmq's keep-alive protocol
// (flashmq-protocol.ts, the default) or dbus-mqtt's (legacy-protocol.ts). The engine keeps the
// cache; the protocol decides what of it reaches MQTT.
import type { Item, Service } from './item-cache';
import type { KeepaliveOutcome } from './keepalive';
import type { TypedValue } from './typed-value';

export type ProtocolMode = 'flashmq' | 'legacy';

export interface NotificationProtocol {
  readonly mode: ProtocolMode;
  /** whether clients are keeping the bridge alive */
  readonly alive: boolean;
  /** whether `R/<portal>/system/0/Serial` is also read and answered besides the keep-alive (K1; not K-P4) */
  readonly readsSerialKeepalive: boolean;
  /** Publishes one item with the protocol's retain rule (the portal is known, the path not blocked). */
  publishItem(service: Service, item: Item, readReply: boolean): void;
  /** Whether a change of this item goes out now (K8; legacy K-P5). */
  publishesChange(service: Service, item: Item): boolean;
  /** A service was (re)scanned: publish what the protocol publishes at scan time (D9, N7). */
  serviceScanned(service: Service): void;
  /** A service left: its topics are emptied (S1; legacy S2). */
  serviceGone(service: Service): void;
  /** The broker link (re)connected: the start-up marker and the serial (K10, N7; K-P7). */
  brokerConnected(): void;
  /**
   * Whether the GX is there (its source connected, not stale, scanned): a heartbeat says the GX
   * is alive, so it runs only while it is (K7). Called on every change.
   */
  sourceLive(live: boolean): void;
  /** A keep-alive request with its raw payload (K1–K6; K-P2–K-P4). */
  keepalive(payload: string, viaSerial: boolean): KeepaliveOutcome | 'legacy' | 'invalid';
  /**
   * Answers an MQTT read with the D-Bus reply as it came (legacy R8, R9); `item` is the item
   * read, undefined for a sub-tree. Without it, reads publish the items they touched (R2, R3).
   */
  readReply?(service: Service, path: string, value: TypedValue, item: Item | undefined): void;
  close(): void;
}
