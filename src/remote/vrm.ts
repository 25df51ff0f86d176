// Which of Victron's 128 VRM MQTT brokers serves an installation. dbus-flashmq's README
// ("Determining the broker URL for a given installation") gives the rule: the character codes
// of the lower-cased, trimmed portal ID summed, modulo 128.

export const VRM_BROKER_COUNT = 128;

/** The broker index of a portal ID (0…127). */
export function vrmBrokerIndex(portalId: string): number {
  const id = portalId.trim().toLowerCase();
  if (id === '') throw new Error('a VRM broker needs the portal ID of the installation');
  let sum = 0;
  for (const ch of id) sum += ch.codePointAt(0)!;
  return sum % VRM_BROKER_COUNT;
}

/** `mqtts://mqtt<N>.victronenergy.com:8883`: MQTT over TLS. */
export function vrmMqttUrl(portalId: string): string {
  return `mqtts://mqtt${vrmBrokerIndex(portalId)}.victronenergy.com:8883`;
}

/** `wss://webmqtt<N>.victronenergy.com/mqtt`: MQTT over websockets (port 443), as VRM's web app connects. */
export function vrmWebsocketUrl(portalId: string): string {
  return `wss://webmqtt${vrmBrokerIndex(portalId)}.victronenergy.com/mqtt`;
}

/**
 * The VRM password for an access token: `Token <token>` (log-in with the VRM password itself is
 * deprecated). A value that already starts with `Token ` is kept.
 */
export function vrmTokenPassword(token: string): string {
  const t = token.trim();
  return /^Token /.test(t) ? t : `Token ${t}`;
}
