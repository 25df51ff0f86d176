// Closing an MQTT.js client for good: a clean DISCONNECT when the broker answers within 2 s,
// else the socket is dropped; late errors of the closed connection are swallowed.
import type { MqttClient } from 'mqtt';

export async function endClient(client: MqttClient, graceMs = 2000): Promise<void> {
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      client.end(true);
      resolve();
    }, graceMs);
    client.end(false, {}, () => {
      clearTimeout(t);
      resolve();
    });
  });
  client.removeAllListeners();
  client.on('error', () => undefined); // late errors of a closed connection are expected
}
