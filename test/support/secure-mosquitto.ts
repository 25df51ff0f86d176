// A real mosquitto that wants a password (mosquitto_passwd) on a plain listener and on a TLS
// listener whose certificate is signed by a CA made for the test (openssl, in a temp dir).
// The password file can be rewritten while it runs (SIGHUP makes mosquitto read it again).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { freePort, startProcess, stopProcess, tempDir, Started } from './processes';

export interface SecureBroker {
  /** plain MQTT, password required */
  port: number;
  /** MQTT over TLS, password required; certificate for 127.0.0.1 signed by caFile */
  tlsPort: number;
  caFile: string;
  /** replaces the password file with these users and makes mosquitto read it again */
  setUsers(users: Record<string, string>): void;
  stop(): Promise<void>;
}

/** A CA and a server certificate for 127.0.0.1 in dir (ca.crt, server.crt, server.key). */
export function makeCertificates(dir: string): void {
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=gx test CA', '-keyout', f('ca.key'), '-out', f('ca.crt'));
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr'));
  fs.writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2',
    '-extfile', f('ext.cnf'), '-out', f('server.crt'));
}

export async function startSecureMosquitto(users: Record<string, string>): Promise<SecureBroker> {
  const dir = tempDir('secure-mosquitto');
  const f = (n: string) => path.join(dir, n);
  makeCertificates(dir);
  const writeUsers = (u: Record<string, string>) => {
    fs.writeFileSync(f('passwd'), '');
    for (const [name, pw] of Object.entries(u)) execFileSync('mosquitto_passwd', ['-b', f('passwd'), name, pw], { stdio: 'pipe' });
    fs.chmodSync(f('passwd'), 0o644);
  };
  writeUsers(users);
  const [port, tlsPort] = [await freePort(), await freePort()];
  fs.writeFileSync(f('mosquitto.conf'), [
    'per_listener_settings false', 'allow_anonymous false', `password_file ${f('passwd')}`, 'persistence false',
    `listener ${port} 127.0.0.1`,
    `listener ${tlsPort} 127.0.0.1`, `cafile ${f('ca.crt')}`, `certfile ${f('server.crt')}`, `keyfile ${f('server.key')}`,
    'log_dest stderr', 'log_type error', 'log_type warning', 'log_type notice', 'log_type information', '',
  ].join('\n'));
  // mosquitto started as root reads its files as the 'mosquitto' user
  fs.chmodSync(dir, 0o755);
  for (const n of fs.readdirSync(dir)) fs.chmodSync(f(n), 0o644);
  const started: Started = await startProcess('mosquitto', ['-c', f('mosquitto.conf')], (o) => o.includes(' running'));
  return {
    port,
    tlsPort,
    caFile: f('ca.crt'),
    setUsers(u) {
      writeUsers(u);
      started.proc.kill('SIGHUP');
    },
    async stop() {
      await stopProcess(started.proc);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
