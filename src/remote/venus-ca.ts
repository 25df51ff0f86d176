// The Venus CA certificate ("Victron Energy B.V., CCGX Certificate Authority", valid until 2114),
// which signs the certificates of Victron's VRM MQTT brokers. It ships with this package in
// certs/venus-ca.crt (the copy victronenergy/dbus-flashmq publishes as venus-ca.crt; on a GX it
// is /etc/ssl/certs/ccgx-ca.pem).
import * as fs from 'fs';
import * as path from 'path';

/** certs/venus-ca.crt of this package (this file is dist/src/remote/venus-ca.js once built). */
export const VENUS_CA_FILE = path.join(__dirname, '..', '..', '..', 'certs', 'venus-ca.crt');

let cached: Buffer | undefined;

export function venusCa(): Buffer {
  if (!cached) cached = fs.readFileSync(VENUS_CA_FILE);
  return cached;
}
