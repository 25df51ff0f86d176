// The one-command demo (`npm start` → dist/src/cli/demo.js) end to end, as a user meets it: the
// Node-RED editor in headless Chromium (palette, gx-write's path picker against the live
// simulator, deploy, debug sidebar; screenshot in test-artifacts/editor.png), the demo's MQTT
// broker with mosquitto_sub/mosquitto_pub (a keep-alive gives a full publish), and Ctrl-C
// (SIGINT) leaving nothing of its own running.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { chromium, BrowserContext, Page } from 'playwright-core';
import { DIST } from '../support/bridge-process';
import { publish, Subscriber } from '../support/mosquitto';
import { freePort, tempDir } from '../support/processes';

const ROOT = path.join(DIST, '..');
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(ROOT, 'test-artifacts');

interface Ready {
  pid: number;
  nodeRedPid: number;
  dbusDaemonPid: number;
  editor: string;
  mqttPort: number;
  portalId: string;
  configNodeId: string;
  tempDir: string;
  liveAfterMs: number | null;
}

let demo: ChildProcess;
let output = '';
let ready: Ready;
let userDir: string;
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
let startMs = 0;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  // a zombie (exited, not yet reaped) counts as gone
  try {
    return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

before(async () => {
  const [port, mqttPort] = [await freePort(), await freePort()];
  userDir = tempDir('demo-userdir');
  const t0 = Date.now();
  demo = spawn(process.execPath, [path.join(DIST, 'src', 'cli', 'demo.js'), '--port', String(port), '--mqtt-port', String(mqttPort), '--user-dir', userDir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  exited = new Promise((resolve) => demo.once('exit', (code, signal) => resolve({ code, signal })));
  ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo was not ready within 60 s; it printed:\n${output}`)), 60000);
    const onData = (c: Buffer) => {
      output += c.toString();
      const m = /^GX_DEMO_READY (.*)$/m.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(JSON.parse(m[1]) as Ready);
      }
    };
    demo.stdout!.on('data', onData);
    demo.stderr!.on('data', onData);
    demo.once('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`the demo exited (${code ?? sig}); it printed:\n${output}`)); });
  });
  startMs = Date.now() - t0;
});

after(async () => {
  if (demo && demo.exitCode === null && demo.signalCode === null) {
    demo.kill('SIGINT');
    const t = setTimeout(() => demo.kill('SIGKILL'), 30000);
    await exited;
    clearTimeout(t);
  }
  fs.rmSync(userDir, { recursive: true, force: true });
});

test('the demo prints what runs and what to try, with live values well within 30 s', () => {
  assert.ok(startMs < 30000, `ready after ${startMs} ms`);
  assert.ok(ready.liveAfterMs !== null && ready.liveAfterMs < 30000, `live values after ${ready.liveAfterMs} ms`);
  assert.equal(ready.portalId, 'c0619ab1f00d');
  for (const text of [
    `mosquitto_sub -h 127.0.0.1 -p ${ready.mqttPort} -v -t 'N/#'`,
    `mosquitto_pub -h 127.0.0.1 -p ${ready.mqttPort} -t 'R/c0619ab1f00d/keepalive' -m ''`,
    ready.editor,
    'Ctrl-C',
  ]) assert.ok(output.includes(text), `the demo prints ${text}`);
  assert.ok(alive(ready.nodeRedPid) && alive(ready.dbusDaemonPid), 'Node-RED and dbus-daemon run');
});

test('mosquitto_sub on the demo broker sees a full publish after a keep-alive', async () => {
  const p = ready.portalId;
  const sub = await new Subscriber(ready.mqttPort, [`N/${p}/#`]).start();
  try {
    const token = `editor-test-${process.pid}`;
    await publish(ready.mqttPort, `R/${p}/keepalive`, JSON.stringify({ 'keepalive-options': [{ 'full-publish-completed-echo': token }] }));
    const done = await sub.waitFor((m) => m.topic === `N/${p}/full_publish_completed` && m.payload.includes(token), 15000);
    const upTo = sub.messages.indexOf(done);
    const topics = new Set(sub.messages.slice(0, upTo).map((m) => m.topic));
    for (const t of ['system/0/Dc/Battery/Soc', 'battery/256/Soc', 'solarcharger/258/Yield/Power', 'grid/30/Ac/Power', 'pvinverter/32/Ac/Power',
      'vebus/257/Hub4/L1/AcPowerSetpoint', 'settings/0/Settings/CGwacs/Hub4Mode']) {
      assert.ok(topics.has(`N/${p}/${t}`), `the full publish has ${t}`);
    }
    assert.ok(topics.size > 500, `a full publish of the whole system (${topics.size} topics)`);
    const soc = sub.messages.find((m) => m.topic === `N/${p}/battery/256/Soc`)!;
    assert.deepEqual(JSON.parse(soc.payload), { value: 100.0 });
    assert.deepEqual(JSON.parse(done.payload), { 'full-publish-completed-echo': token, value: JSON.parse(done.payload).value });
  } finally {
    await sub.stop();
  }
});

async function openEditor(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(ready.editor);
  await page.waitForSelector('.red-ui-palette-node[data-palette-type="gx-write"]');
  // the workspace is drawn once the flows have been loaded
  await page.waitForFunction((id) => !!(window as any).RED?.nodes?.node(id), ready.configNodeId);
  assert.deepEqual(errors, [], 'no script errors in the editor');
  return page;
}

test('the editor: the five nodes, gx-write path picker on the live simulator, deploy, debug sidebar', async () => {
  const profile = tempDir('chromium-profile');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1600, height: 1000 },
  });
  let page: Page | undefined;
  try {
    page = await openEditor(context);

    // the palette: four flow nodes in the "Victron GX" category, gx-config as config node
    for (const type of ['gx-notify', 'gx-read', 'gx-write', 'gx-keepalive']) {
      assert.equal(await page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`).count(), 1, `${type} in the palette`);
      assert.equal(await page.evaluate((t) => (window as any).RED.nodes.getType(t)?.category, type), 'Victron GX');
    }
    assert.equal(await page.evaluate(() => (window as any).RED.nodes.getType('gx-config')?.category), 'config');
    assert.equal(await page.evaluate((id) => (window as any).RED.nodes.node(id)?.type, ready.configNodeId), 'gx-config');

    // gx-write's edit dialog, opened by double-clicking the node on the canvas
    const writeId: string = await page.evaluate(() => {
      const RED = (window as any).RED;
      let id = '';
      RED.nodes.eachNode((n: any) => { if (n.type === 'gx-write' && n.name === 'ESS grid setpoint') id = n.id; });
      return id;
    });
    assert.ok(writeId, 'the demo flow has the ESS setpoint gx-write node');
    await page.locator(`[id="${writeId}"] .red-ui-flow-node`).first().dblclick();
    const input = page.locator('#node-input-path');
    await input.waitFor({ state: 'visible' });
    // "<n> paths known to the GX config node." once the list has arrived (not essential: see below)
    await page.waitForFunction(() => /\d+ paths/.test(document.querySelector('#node-input-path-hint')?.textContent ?? ''), undefined, { timeout: 10000 })
      .catch(() => undefined);
    // the edit tray focuses its "Properties" tab once it has slid open: wait for that, then click
    // into the field as a user does (typing earlier would lose the keys to the tab)
    await page.waitForFunction(() => document.activeElement?.classList.contains('red-ui-tab-label'), undefined, { timeout: 5000 })
      .catch(() => undefined);

    // the path picker: suggestions from the running simulator while typing (typed again if the
    // list of paths had not arrived yet)
    const menu = page.locator('.red-ui-autoComplete-container');
    const choice = menu.locator('li', { hasText: 'vebus/257/Hub4/L1/AcPowerSetpoint' }).first();
    for (let attempt = 1; ; attempt++) {
      await input.click();
      await input.fill('');
      await input.pressSequentially('vebus/257/Hub4', { delay: 20 });
      assert.equal(await input.inputValue(), 'vebus/257/Hub4');
      if (await choice.waitFor({ state: 'visible', timeout: 4000 }).then(() => true, () => false)) break;
      if (attempt === 4) assert.fail('no path suggestions for vebus/257/Hub4');
    }
    const suggestions = await menu.locator('li').allTextContents();
    assert.ok(suggestions.length >= 5, `suggestions: ${suggestions.join(' | ')}`);
    assert.ok(suggestions.every((s) => s.includes('vebus/257/Hub4')), `only matching paths: ${suggestions.join(' | ')}`);
    await choice.click();
    assert.equal(await input.inputValue(), 'vebus/257/Hub4/L1/AcPowerSetpoint');
    await page.locator('#node-input-name').fill('ESS grid setpoint (L1)');
    await page.locator('#node-dialog-ok').click();
    await input.waitFor({ state: 'detached' });

    // deploy, then live messages in the debug sidebar
    await page.locator('#red-ui-header-button-deploy').click();
    await page.locator('.red-ui-notification', { hasText: /deployed/i }).first().waitFor();
    await page.evaluate(() => (window as any).RED.sidebar.show('debug'));
    const before = await page.locator('.red-ui-debug-msg').count();
    await page.waitForFunction((n) => document.querySelectorAll('.red-ui-debug-msg').length >= n + 3, before, { timeout: 20000 });
    const names = await page.locator('.red-ui-debug-msg .red-ui-debug-msg-name').allTextContents();
    assert.ok(names.some((n) => /grid power|PV power/.test(n)), `live values in the sidebar: ${[...new Set(names)].join(', ')}`);
    // the runtime runs the renamed node with the picked path
    const deployed: any[] = await page.evaluate(async () => (await fetch('flows', { headers: { 'Node-RED-API-Version': 'v1' } })).json());
    const w = deployed.find((n) => n.id === writeId);
    assert.equal(w?.name, 'ESS grid setpoint (L1)');
    assert.equal(w?.path, 'vebus/257/Hub4/L1/AcPowerSetpoint');

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const shot = path.join(ARTIFACTS, 'editor.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(fs.statSync(shot).size > 10000, 'a screenshot was saved');
  } catch (e) {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page?.screenshot({ path: path.join(ARTIFACTS, 'editor-failure.png'), fullPage: true }).catch(() => undefined);
    throw e;
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
});

test('Ctrl-C (SIGINT) stops the demo and everything it started', async () => {
  demo.kill('SIGINT');
  const t = setTimeout(() => demo.kill('SIGKILL'), 30000);
  const { code, signal } = await exited;
  clearTimeout(t);
  assert.equal(signal, null, `exited by itself, output:\n${output.slice(-2000)}`);
  assert.equal(code, 0, output.slice(-2000));
  assert.match(output, /GX demo stopped: Node-RED \(pid \d+\), simulator, MQTT broker, dbus-daemon \(pid \d+\)/);
  for (const [what, pid] of [['Node-RED', ready.nodeRedPid], ['dbus-daemon', ready.dbusDaemonPid]] as const) {
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(!alive(pid), `${what} (pid ${pid}) is gone`);
  }
  assert.ok(!fs.existsSync(ready.tempDir), 'the temp folder is removed');
});
