// A GX reached over MQTT (its broker on the LAN, with TLS or a pairing token, or VRM) as an
// item source for the engine: what gx-bridge --gx and the gx-config node build.
import { RemoteGxSource, RemoteSourceOptions } from './remote-source';

export { RemoteGxSource } from './remote-source';
export type { RemoteSourceOptions, RemoteTiming } from './remote-source';
export type { RemoteGxOptions } from './connection';
export { resolveConnection } from './connection';
export { vrmBrokerIndex, vrmMqttUrl, vrmWebsocketUrl } from './vrm';
export { VENUS_CA_FILE } from './venus-ca';

/** Builds (does not start) a remote GX source from plain options; throws with a clear reason on bad ones. */
export function createRemoteSource(opts: RemoteSourceOptions): RemoteGxSource {
  return new RemoteGxSource(opts);
}
