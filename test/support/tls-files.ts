// TLS files for test brokers, made with openssl in a temp folder: a CA of our own and a server
// certificate from it for 127.0.0.1. Readable by the 'mosquitto' user (mosquitto started as root
// reads its files as that user). (The same certificates as the TLS test in
// test/reliability/security.test.ts makes; one of them can go once both use a shared helper.)
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { tempDir } from './processes';

export interface TlsFiles {
  dir: string;
  /** a file in the folder */
  file(name: string): string;
  /** openssl with these arguments, in no particular folder */
  openssl(...args: string[]): void;
}

/** ca.crt/ca.key and server.crt/server.key (CN and subjectAltName 127.0.0.1). */
export function makeTlsFiles(prefix = 'tls'): TlsFiles {
  const dir = tempDir(prefix);
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => { execFileSync('openssl', args, { stdio: 'pipe' }); };
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=gx test CA', '-keyout', f('ca.key'), '-out', f('ca.crt'));
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr'));
  fs.writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2',
    '-extfile', f('ext.cnf'), '-out', f('server.crt'));
  return { dir, file: f, openssl: ssl };
}

/** Lets the 'mosquitto' user read every file in the folder. */
export function shareWithMosquitto(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const n of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, n), 0o644);
}
