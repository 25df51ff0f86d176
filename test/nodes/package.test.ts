// The package as a new user gets it: `npm pack`, installed into a fresh Node-RED user directory
// the way the palette manager does (`npm install <tarball>`, dependencies from the npm cache or
// the registry, nothing else), then Node-RED 4.1 started on that directory: the five nodes load,
// the examples are listed, the scenarios gx-sim users are told to load are there, and the
// programmatic API is exported.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { DIST } from '../support/bridge-process';
import { freePort, startProcess, stopProcess, tempDir, Started } from '../support/processes';

const ROOT = path.join(DIST, '..');
const NAME = '@gx-bridge/node-red-gx';
let userDir: string;
let installed: string;
let nodeRed: Started | undefined;
let port: number;

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' },
  });
}

function get(urlPath: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, headers: { Accept: 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: text });
        }
      });
    }).on('error', reject);
  });
}

before(async () => {
  const packDir = tempDir('pack');
  const tgz = npm(['pack', '--ignore-scripts', '--pack-destination', packDir], ROOT).trim().split('\n').pop()!;
  userDir = tempDir('nr-userdir');
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true, version: '0.0.1' }));
  const args = ['install', path.join(packDir, tgz), '--ignore-scripts', '--no-package-lock'];
  try {
    npm([...args, '--offline'], userDir); // the dependencies are in the npm cache after npm ci
  } catch {
    npm([...args, '--prefer-offline'], userDir); // else from the registry
  }
  installed = path.join(userDir, 'node_modules', ...NAME.split('/'));
  port = await freePort();
  fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = ${JSON.stringify({
    uiHost: '127.0.0.1', uiPort: port, flowFile: 'flows.json', credentialSecret: 'package-test',
    editorTheme: { tours: false, palette: { editable: false } }, diagnostics: { enabled: false }, telemetry: { enabled: false },
    logging: { console: { level: 'info' } },
  })};\n`);
  const red = path.join(path.dirname(require.resolve('node-red/package.json')), 'red.js');
  nodeRed = await startProcess(process.execPath, [red, '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')],
    (out) => /Server now running at/.test(out), { timeoutMs: 60000, cwd: userDir });
});

after(async () => {
  if (nodeRed) await stopProcess(nodeRed.proc);
  fs.rmSync(userDir, { recursive: true, force: true });
});

test('the installed package holds what it needs, and nothing of the tests or the workplace', () => {
  for (const f of ['dist/src/index.js', 'dist/nodes/gx-config/gx-config.js', 'dist/nodes/gx-config/gx-config.html',
    'dist/nodes/gx-read/locales/en-US/gx-read.json', 'dist/nodes/gx-write/icons/gx-write.svg', 'resources/path-picker.js',
    'examples/ess-setpoint.json', 'test/fixtures/scenarios/ess-gx.json', 'test/fixtures/recordings/vebus.csv',
    'test/fixtures/recordings/LICENSE', 'README.md', 'LICENSE']) {
    assert.ok(fs.existsSync(path.join(installed, f)), `${f} is in the package`);
  }
  assert.ok(!fs.existsSync(path.join(installed, 'dist', 'test')), 'no compiled tests');
  assert.ok(!fs.existsSync(path.join(installed, 'test', 'fixtures', 'oracle')), 'no test captures');
});

test('Node-RED 4.1 loads the five nodes from the fresh user directory, with no error', async () => {
  const res = await get('/nodes');
  assert.equal(res.status, 200);
  const ours = (res.body as any[]).filter((s) => s.module === NAME);
  assert.deepEqual(ours.map((s) => s.types).flat().sort(), ['gx-config', 'gx-keepalive', 'gx-notify', 'gx-read', 'gx-write']);
  for (const set of ours) {
    assert.equal(set.enabled, true, JSON.stringify(set));
    assert.equal(set.err, undefined, JSON.stringify(set));
  }
  assert.doesNotMatch(nodeRed!.output(), /\[error\]|Error: Cannot find module/, nodeRed!.output());
  const picker = await new Promise<number>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: `/resources/${NAME}/path-picker.js` }, (r) => { r.resume(); resolve(r.statusCode ?? 0); })
      .on('error', reject);
  });
  assert.equal(picker, 200, 'the editor resource is served');
});

test('the examples are listed in Import → Examples', async () => {
  const root = await get('/library/examples/flows/');
  assert.equal(root.status, 200, JSON.stringify(root.body));
  assert.ok((root.body as unknown[]).includes(NAME), JSON.stringify(root.body));
  const ours = await get(`/library/examples/flows/${NAME}`);
  const names = JSON.stringify(ours.body);
  for (const f of ['bridge-to-home-assistant', 'ess-setpoint', 'low-soc-alert', 'read-settings']) assert.ok(names.includes(f), `${f}: ${names}`);
});

test('the package exports its programmatic API', () => {
  const api = require(installed);
  for (const name of ['GxGateway', 'GxEngine', 'DbusServiceTracker', 'BrokerLink', 'GxSimulator', 'loadFile', 'loadScenario', 'redactUrl',
    'RemoteGxSource', 'createRemoteSource']) {
    assert.equal(typeof api[name], 'function', `${name} is exported`);
  }
  assert.ok(fs.readFileSync(api.VENUS_CA_FILE, 'utf8').includes('BEGIN CERTIFICATE'), 'the Venus CA ships with the package');
  const defs = api.loadFile(path.join(installed, 'test', 'fixtures', 'scenarios', 'ess-gx.json'));
  assert.ok(defs.length >= 7, 'the shipped scenario loads with its recordings');
});
