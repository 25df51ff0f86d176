// A GX's own TLS certificate, fetched once so that later connections can trust exactly it.
// Venus OS makes it on the device (self-signed, named venus.local; meta-victronenergy's
// start-flashmq), so no public or Victron CA vouches for it: the user saves it once, on a
// network they trust, checks the fingerprint against the GX if they like, and gives the file as
// the CA (`--gx-ca`).
import { X509Certificate } from 'crypto';
import * as tls from 'tls';

export interface FetchedCertificate {
  pem: string;
  subject: string;
  issuer: string;
  fingerprint256: string;
  validTo: string;
  selfSigned: boolean;
}

/** Connects to host:port (default 8883) without verifying, and returns the certificate the server shows. */
export function fetchServerCertificate(target: string, timeoutMs = 10000): Promise<FetchedCertificate> {
  const { host, port } = hostPort(target, 8883);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, servername: isIp(host) ? undefined : host });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TLS answer from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const raw = socket.getPeerCertificate(false)?.raw;
      socket.end();
      if (!raw) return reject(new Error(`${host}:${port} showed no certificate`));
      const x = new X509Certificate(raw);
      resolve({
        pem: x.toString(),
        subject: x.subject.replace(/\n/g, ', '),
        issuer: x.issuer.replace(/\n/g, ', '),
        fingerprint256: x.fingerprint256,
        validTo: x.validTo,
        selfSigned: x.checkIssued(x) && x.verify(x.publicKey),
      });
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot reach ${host}:${port} over TLS: ${e.message}`));
    });
  });
}

function hostPort(target: string, defaultPort: number): { host: string; port: number } {
  const t = target.replace(/^\w+:\/\//, '').replace(/\/.*$/, '');
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(t) ?? /^([^:]+)(?::(\d+))?$/.exec(t);
  if (!m) throw new Error(`'${target}' is not host[:port]`);
  return { host: m[1], port: m[2] ? Number(m[2]) : defaultPort };
}

function isIp(h: string): boolean {
  return /^[\d.]+$/.test(h) || h.includes(':');
}
