// Public entry point of the package for programmatic use (`require('@gx-bridge/node-red-gx')`);
// the Node-RED nodes load their own files. What is exported here is documented in README.md
// ("Using it from code").

// One GX as a whole: a D-Bus source (or the GX over MQTT), the engine over it and, optionally, a broker link.
export { GxGateway } from './gateway';
export type { GatewayOptions } from './gateway';

// The engine: item cache, notifications, keep-alive protocols, reads and writes.
export { GxEngine, RequestError } from './bridge/engine';
export type {
  EngineOptions, FullPublishCompleted, ItemUpdate, Logger, OutMessage, ProtocolMode, ReadItem, UpdateCause, WriteResult,
} from './bridge/engine';
export type { Item, Service } from './bridge/item-cache';
export type { ItemSource, ServiceInfo, SetValueOutcome, SourceItem, SourceState } from './bridge/item-source';
export type { KeepaliveTiming } from './bridge/keepalive';
export type { TypedValue } from './bridge/typed-value';
export type { ItemAddress } from './bridge/topics';
export { parseWritePatterns } from './bridge/write-policy';
export type { WritePolicy, WritePolicyMode } from './bridge/write-policy';

// The D-Bus source.
export { DbusError, DbusServiceTracker } from './dbus/service-tracker';
export type { TrackerOptions } from './dbus/service-tracker';
export { resolveBusAddress } from './dbus/address';
export type { BusAddress } from './dbus/address';

// The remote source: a GX reached over MQTT (its broker on the LAN, with TLS or a pairing token, or VRM).
export { RemoteGxSource, createRemoteSource, vrmBrokerIndex, vrmMqttUrl, vrmWebsocketUrl, VENUS_CA_FILE } from './remote';
export type { RemoteGxOptions, RemoteSourceOptions, RemoteTiming } from './remote';

// The broker link (dbus-flashmq's N/R/W/keep-alive protocol on any MQTT broker).
export { BrokerLink, redactUrl } from './mqtt/broker-link';
export type { BrokerLinkOptions, BrokerProblem, LinkState, TlsOptions } from './mqtt/broker-link';

// The GX simulator (simulated com.victronenergy.* services on any D-Bus).
export { GxSimulator, SimService, loadFile, loadRecording, loadScenario, syntheticSystem } from './sim';
export type { ServiceDef, PathDef, ServiceOptions, SignalMode, SimulatorOptions, ReplayOptions, WriteRecord } from './sim';

// The path catalogue: labels, units and value names of well-known GX D-Bus paths.
export { describePath, enumName, matchesQuery, serviceTypeLabel, catalogueInfo } from './catalogue';
export type { PathDescriptor, EnumValue, CatalogueInfo } from './catalogue';
