// The MQTT limit for a full publish: the same PUBLISH packets (same topics, same payloads)
// pre-encoded and written to the broker in ONE socket write by a raw TCP client, CONNECT
// first, the full_publish_completed marker last. What the broker and the subscriber need for
// that many messages is the least any bridge could take.
import * as net from 'net';
import { encodeConnect, encodeDisconnect, encodePublish } from './mqtt-wire';

export interface CapturedMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

/** CONNECT + every message + the marker, as one buffer. */
export function encodeBurst(clientId: string, messages: CapturedMessage[], marker: CapturedMessage): Buffer {
  const parts: Buffer[] = [encodeConnect(clientId)];
  for (const m of messages) parts.push(encodePublish(m.topic, m.payload, m.retain));
  parts.push(encodePublish(marker.topic, marker.payload, false));
  parts.push(encodeDisconnect());
  return Buffer.concat(parts);
}

/**
 * Connects a TCP socket to the broker and, once connected, returns a function that writes
 * the whole burst in one write. The caller takes its start time right before calling it.
 */
export function openBurstSocket(port: number): Promise<{ write(buf: Buffer): void; close(): void }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    socket.on('error', reject);
    socket.on('data', () => undefined); // CONNACK
    socket.on('connect', () => {
      resolve({
        write: (buf) => { socket.write(buf); },
        close: () => socket.destroy(),
      });
    });
  });
}
