// What the gx-config editor asks the runtime for, besides the live items: the code it shares
// with the runtime (the settings migrations, the VRM broker of a portal ID), and the GX's own
// TLS certificate, fetched once so that the node trusts exactly it (pinned).
import * as fs from 'fs';
import * as path from 'path';
import { fetchServerCertificate, FetchedCertificate } from '../remote/gx-certificate';

let script: string | undefined;

/**
 * One script for the editor: the compiled migrations.ts and remote/vrm.ts (plain CommonJS
 * without imports), each wrapped into window.GxConfigEditor.<name>, so that the editor runs the
 * very code the runtime does.
 */
export function editorScript(): string {
  if (script === undefined) {
    const wrap = (file: string, name: string) => {
      const code = fs.readFileSync(file, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
      return `(function () { var module = { exports: {} }; var exports = module.exports;\n${code}\n` +
        `window.GxConfigEditor.${name} = module.exports; })();\n`;
    };
    script = 'window.GxConfigEditor = window.GxConfigEditor || {};\n' +
      wrap(path.join(__dirname, 'migrations.js'), 'migrations') +
      wrap(path.join(__dirname, '..', 'remote', 'vrm.js'), 'vrm');
  }
  return script;
}

/** host:port of the TLS port a GX broker URL names: mqtts://<gx>[:8883], wss://<gx>[:443]/…, or host[:port]. */
export function certificateTarget(url: unknown): string {
  const u = typeof url === 'string' ? url.trim() : '';
  const m = /^(?:(mqtts|wss|mqtt|ws):\/\/)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(?:\/\S*)?$/.exec(u);
  if (!m || u.includes('@')) throw new Error(`'${u.slice(0, 100)}' is not the address of a GX's broker (mqtts://<gx-address>)`);
  if (m[1] === 'mqtt' || m[1] === 'ws') throw new Error('the GX\'s certificate is on its TLS port: use mqtts:// (port 8883) or wss://');
  const port = m[3] ? Number(m[3]) : m[1] === 'wss' ? 443 : 8883;
  if (port < 1 || port > 65535) throw new Error(`port ${port} is not a TCP port`);
  return `${m[2]}:${port}`;
}

/** The certificate a GX's TLS port shows (not verified: the user compares the fingerprint). */
export function fetchGxCertificate(url: unknown, timeoutMs = 10000): Promise<FetchedCertificate> {
  let target: string;
  try {
    target = certificateTarget(url);
  } catch (e) {
    return Promise.reject(e);
  }
  return fetchServerCertificate(target, timeoutMs);
}
