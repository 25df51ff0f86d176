// The one-command demo (`npm start` → dist/src/cli/demo.js) end to end, as a user meets it: the
// Node-RED editor in headless Chromium (palette, gx-write's path picker against the live
// simulator with the catalogue's labels, search by label, default node labels, gx-write's repeat
// settings, deploy, debug sidebar; screenshots in test-artifacts/*.png), the demo's MQTT
// broker with mosquitto_sub/mosquitto_pub (a keep-alive gives a full publish), and Ctrl-C
// (SIGINT) leaving nothing of its own running.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn } from 'child_process';
import { X509Certificate } from 'crypto';
import type { AddressInfo } from 'net';
import * as tls from 'tls';
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
  remoteConfigNodeId: string;
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
    `second GX config "Demo GX over MQTT": the same GX over mqtt://127.0.0.1:${ready.mqttPort}`,
    'Ctrl-C',
  ]) assert.ok(output.includes(text), `the demo prints ${text}`);
  assert.ok(alive(ready.nodeRedPid) && alive(ready.dbusDaemonPid), 'Node-RED and dbus-daemon run');
});

test('mosquitto_sub on the demo broker sees a full publish after a keep-alive', async () => {
  const p = ready.portalId;
  const sub = await new Subscriber(ready.mqttPort, [`N/${p}/#`]).start();
  try {
    const token = `editor-test-${process.pid}`;
    // The demo's own clients (gx-keepalive, the second GX config node) send keep-alives too: ours may
    // fall in a second whose 3 full republishes are used up (K6), so ask again as a client must.
    const keepalive = JSON.stringify({ 'keepalive-options': [{ 'full-publish-completed-echo': token }] });
    const isDone = (m: { topic: string; payload: string }) => m.topic === `N/${p}/full_publish_completed` && m.payload.includes(token);
    let done;
    for (let attempt = 0; !done; attempt++) {
      await publish(ready.mqttPort, `R/${p}/keepalive`, keepalive);
      done = await sub.waitFor(isDone, 3000).catch((e: Error) => { if (attempt >= 4) throw e; return undefined; });
    }
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

async function openEditor(context: BrowserContext, errors: string[]): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(ready.editor);
  await page.waitForSelector('.red-ui-palette-node[data-palette-type="gx-write"]');
  // the workspace is drawn once the flows have been loaded
  await page.waitForFunction((id) => !!(window as any).RED?.nodes?.node(id), ready.configNodeId);
  assert.deepEqual(errors, [], 'no script errors in the editor');
  return page;
}

/** A fresh headless Chromium on the demo's editor; a screenshot in test-artifacts/ when fn fails. */
async function withEditor(shot: string, fn: (page: Page) => Promise<void>): Promise<void> {
  const profile = tempDir('chromium-profile');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1600, height: 1000 },
  });
  let page: Page | undefined;
  const errors: string[] = [];
  try {
    page = await openEditor(context, errors);
    await fn(page);
    assert.deepEqual(errors, [], 'no script errors in the editor');
  } catch (e) {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page?.screenshot({ path: path.join(ARTIFACTS, `${shot}-failure.png`), fullPage: true }).catch(() => undefined);
    throw e;
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** Opens a node's edit tray by double-clicking it on the canvas, once the tray has taken focus. */
async function editNode(page: Page, type: string, name: string): Promise<string> {
  const id: string = await page.evaluate(([t, n]) => {
    const RED = (window as any).RED;
    let found = '';
    RED.nodes.eachNode((x: any) => { if (x.type === t && x.name === n) found = x.id; });
    return found;
  }, [type, name]);
  assert.ok(id, `the demo flow has the ${type} node '${name}'`);
  await page.locator(`[id="${id}"] .red-ui-flow-node`).first().dblclick();
  await page.locator('#node-input-path, #node-input-filter').first().waitFor({ state: 'visible' });
  // the edit tray focuses its "Properties" tab once it has slid open: wait for that, then click
  // into the field as a user does (typing earlier would lose the keys to the tab)
  await page.waitForFunction(() => document.activeElement?.classList.contains('red-ui-tab-label'), undefined, { timeout: 5000 })
    .catch(() => undefined);
  return id;
}

test('the editor: the five nodes, gx-write path picker on the live simulator, deploy, debug sidebar', async () => {
  await withEditor('editor', async (page) => {
    // the palette: four flow nodes in the "Victron GX" category, gx-config as config node
    for (const type of ['gx-notify', 'gx-read', 'gx-write', 'gx-keepalive']) {
      assert.equal(await page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`).count(), 1, `${type} in the palette`);
      assert.equal(await page.evaluate((t) => (window as any).RED.nodes.getType(t)?.category, type), 'Victron GX');
    }
    assert.equal(await page.evaluate(() => (window as any).RED.nodes.getType('gx-config')?.category), 'config');
    assert.equal(await page.evaluate((id) => (window as any).RED.nodes.node(id)?.type, ready.configNodeId), 'gx-config');

    // gx-write's edit dialog, opened by double-clicking the node on the canvas
    const writeId = await editNode(page, 'gx-write', 'ESS grid setpoint');
    const input = page.locator('#node-input-path');
    // "<n> items on this GX" once the list has arrived (not essential: see below)
    await page.waitForFunction(() => /\d+ items on this GX/.test(document.querySelector('#node-input-path-hint')?.textContent ?? ''), undefined, { timeout: 10000 })
      .catch(() => undefined);

    // the path picker: suggestions from the running simulator while typing (typed again if the
    // list of paths had not arrived yet)
    const menu = page.locator('.red-ui-autoComplete-container');
    const choice = menu.locator('li', { hasText: 'vebus/257/Hub4/L1/AcPowerSetpoint' }).first();
    const typedResults = () => page.waitForFunction(() => {
      const rows = Array.from(document.querySelectorAll('.red-ui-autoComplete-container .gx-picker-item'));
      return rows.length >= 5 && rows.every((r) => r.textContent!.includes('vebus/257/Hub4'));
    }, undefined, { timeout: 4000 }).then(() => true, () => false);
    for (let attempt = 1; ; attempt++) {
      await input.fill('');
      await input.click();
      await input.pressSequentially('vebus/257/Hub4', { delay: 20 });
      assert.equal(await input.inputValue(), 'vebus/257/Hub4');
      if (await typedResults()) break;
      if (attempt === 4) assert.fail('no path suggestions for vebus/257/Hub4');
    }
    const suggestions = await menu.locator('li:has(.gx-picker-item)').allTextContents();
    assert.ok(suggestions.length >= 5, `suggestions: ${suggestions.join(' | ')}`);
    assert.ok(suggestions.every((s) => s.includes('vebus/257/Hub4')), `only matching paths: ${suggestions.join(' | ')}`);
    assert.match(await menu.locator('.gx-picker-header').first().textContent() ?? '', /^MultiPlus 48\/3000\/35-50 \(vebus\/257\)/,
      'grouped under the device, with its product name');
    // the catalogue's label and unit beside the path; a pencil for a path meant to be written
    assert.equal(await choice.locator('.gx-picker-label').textContent(), 'ESS AC power setpoint L1 (W)');
    assert.equal(await choice.locator('.fa-pencil').count(), 1);
    await choice.click();
    assert.equal(await input.inputValue(), 'vebus/257/Hub4/L1/AcPowerSetpoint');
    // the setpoint keeper: "Stop after" only shows once "Repeat every" is set
    const repeat = page.locator('#node-input-repeat');
    assert.equal(await repeat.inputValue(), '30', 'the demo holds its setpoint');
    assert.equal(await page.locator('#node-input-hold').isVisible(), true);
    await repeat.fill('');
    await repeat.dispatchEvent('change');
    assert.equal(await page.locator('#node-input-hold').isVisible(), false, 'no hold time without repeats');
    await repeat.fill('0.5');
    await repeat.dispatchEvent('change');
    await page.waitForFunction(() => document.querySelector('#node-input-repeat')?.classList.contains('input-error'));
    await repeat.fill('30');
    await repeat.dispatchEvent('change');
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
  });
});

test('the path picker opens with the live list grouped by device, with labels and units, filters on path, label, value text and device name, says how many more', async (t) => {
  await withEditor('picker', async (page) => {
    await editNode(page, 'gx-read', 'ESS settings');
    const input = page.locator('#node-input-path');
    const hint = page.locator('#node-input-path-hint');
    const menu = page.locator('.red-ui-autoComplete-container');
    await page.waitForFunction(() => /\d+ items on this GX/.test(document.querySelector('#node-input-path-hint')?.textContent ?? ''));
    const total = Number(/(\d+) items on this GX/.exec(await hint.textContent() ?? '')![1]);
    assert.ok(total > 500, `the whole simulated system: ${total}`);
    // an empty field, one click: the live list at once, no typing needed
    await input.fill('');
    await input.click();
    await menu.locator('.gx-picker-header').first().waitFor({ state: 'visible' });
    const headers = await menu.locator('.gx-picker-header').allTextContents();
    assert.match(headers[0], /^BMV-702 \(battery\/256\)/, headers.join(' | '));
    assert.equal(await menu.locator('li:has(.gx-picker-item)').count(), 100, 'one page of items');
    assert.match(await menu.locator('.gx-picker-more').textContent() ?? '', new RegExp(`${total - 100} more items: type more to narrow`));
    assert.match(await hint.textContent() ?? '', new RegExp(`Showing 100 of ${total} matching items`));
    // every device a header of its own, in order; items with the catalogue's label and unit
    assert.equal(new Set(headers).size, headers.length, `one header per device: ${headers.join(' | ')}`);
    const voltage = menu.locator('li', { hasText: 'battery/256/Dc/0/Voltage' }).first();
    assert.equal(await voltage.locator('.gx-picker-label').textContent(), 'Voltage (V)');
    assert.ok(await menu.locator('.gx-picker-label').count() > 50, 'most rows have a label');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const listShot = path.join(ARTIFACTS, 'picker.png');
    await page.screenshot({ path: listShot });
    t.diagnostic(`screenshot of the path picker (the live list): ${listShot}`);
    // search by label: words of the label, not of the path
    await input.pressSequentially('state of charge', { delay: 20 });
    await page.waitForFunction(() => /^\d+ matching items?\.$/.test(document.querySelector('#node-input-path-hint')?.textContent ?? ''));
    const soc = menu.locator('li', { hasText: 'battery/256/Soc' }).first();
    await soc.waitFor({ state: 'visible' });
    assert.equal(await soc.locator('.gx-picker-label').textContent(), 'State of charge (%)');
    assert.equal(await soc.locator('.gx-picker-label b').textContent(), 'State of charge', 'the words found, in bold');
    const found = await menu.locator('li:has(.gx-picker-item)').allTextContents();
    assert.ok(found.some((r) => r.includes('system/0/Dc/Battery/Soc') && r.includes('Battery state of charge (%)')), found.join(' | '));
    assert.ok(found.length < 20, `the search narrowed ${total} items to ${found.length}`);
    assert.ok((await menu.locator('.gx-picker-header').count()) >= 2, 'still grouped by device');
    const searchShot = path.join(ARTIFACTS, 'picker-search.png');
    await page.screenshot({ path: searchShot });
    t.diagnostic(`screenshot of the path picker (search by label "state of charge"): ${searchShot}`);
    await input.fill('');
    // the service's text for a value: shown beside it, and found when typed
    await input.pressSequentially('58.50V', { delay: 20 });
    await page.waitForFunction(() => /^\d+ matching items?\.$/.test(document.querySelector('#node-input-path-hint')?.textContent ?? ''));
    await page.waitForFunction(() => Array.from(document.querySelectorAll('.red-ui-autoComplete-container .gx-picker-text'))
      .some((e) => e.textContent === '58.50V'));
    const byText = await menu.locator('li:has(.gx-picker-item)').allTextContents();
    assert.ok(byText.some((t) => t.includes('battery/256/History/MaximumVoltage') && t.includes('58.5') && t.includes('58.50V')), byText.join(' | '));
    assert.equal(await menu.locator('.gx-picker-more').count(), 0, 'no "more" row when everything is shown');
    // a device by its product name; its header picks the whole service for gx-read
    await input.fill('');
    await input.pressSequentially('multiplus', { delay: 20 });
    await page.waitForFunction(() => /^MultiPlus/.test(document.querySelector('.red-ui-autoComplete-container .gx-picker-header')?.textContent ?? ''));
    await menu.locator('li:has(.gx-picker-header)').first().click();
    assert.equal(await input.inputValue(), 'vebus/257/');
    await page.locator('#node-dialog-cancel').click();
  });
});

test('nodes without a name show what their path is, from the catalogue; the path when it has no label', async (t) => {
  await withEditor('labels', async (page) => {
    const ids: string[] = await page.evaluate((server) => {
      const RED = (window as any).RED;
      const nodes = [
        { id: 'lab0000000000001', type: 'gx-notify', name: '', server, filter: 'battery/+/Soc', x: 1100, y: 160, z: RED.workspaces.active(), wires: [[]] },
        { id: 'lab0000000000002', type: 'gx-write', name: '', server, path: 'vebus/257/Hub4/L1/AcPowerSetpoint', x: 1100, y: 220, z: RED.workspaces.active(), wires: [[]] },
        { id: 'lab0000000000003', type: 'gx-read', name: '', server, path: 'settings/0/Settings/CGwacs', x: 1100, y: 280, z: RED.workspaces.active(), wires: [[]] },
      ];
      RED.view.importNodes(nodes, { generateIds: false });
      // where they were meant to go (an import puts them at the mouse), clear of the demo's nodes
      nodes.forEach((n, i) => { const x = RED.nodes.node(n.id); x.x = 820; x.y = 200 + 60 * i; x.dirty = true; });
      RED.view.redraw();
      return nodes.map((n) => n.id);
    }, ready.configNodeId);
    const labelOf = (id: string) => page.locator(`[id="${id}"] .red-ui-flow-node-label`).first().textContent();
    await page.waitForFunction((id) => document.querySelector(`[id="${id}"] .red-ui-flow-node-label`)?.textContent === 'Battery: State of charge', ids[0]);
    assert.equal(await labelOf(ids[1]), 'vebus/257 ESS AC power setpoint L1');
    assert.equal(await labelOf(ids[2]), 'settings/0/Settings/CGwacs', 'a sub-tree shows its path');
    const shot = path.join(ARTIFACTS, 'node-labels.png');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: shot });
    t.diagnostic(`screenshot of the default node labels: ${shot}`);
  });
});

test('gx-config: the TLS row only for mqtts:// and wss://, a password in the broker URL is refused and moved to the credentials', async () => {
  await withEditor('gx-config', async (page) => {
    await page.evaluate((id) => (window as any).RED.editor.editConfig('', 'gx-config', id), ready.configNodeId);
    const broker = page.locator('#node-config-input-broker');
    await page.locator('#node-config-gx-config-tabs a', { hasText: 'MQTT broker' }).click();
    await broker.waitFor({ state: 'visible' });
    const visible = (sel: string) => page.locator(sel).isVisible();
    await broker.fill('mqtt://127.0.0.1:1883');
    assert.equal(await visible('#node-config-row-tls'), false, 'no TLS row for mqtt://');
    await broker.fill('mqtts://broker.example:8883');
    assert.equal(await visible('#node-config-row-tls'), true, 'a TLS row for mqtts://');
    assert.match(await page.locator('#node-config-tip-tls').textContent() ?? '', /Node-RED's own TLS configuration node \(tls-config\)/);
    await broker.fill('wss://broker.example/mqtt');
    assert.equal(await visible('#node-config-row-tls'), true, 'a TLS row for wss://');
    await broker.fill('mqtt://bob:s3cr%40t@127.0.0.1:1883');
    await broker.dispatchEvent('change'); // Node-RED validates a field when it changes
    assert.equal(await visible('#node-config-tip-broker-credentials'), true, 'the form says where the credentials go');
    await page.waitForFunction(() => document.querySelector('#node-config-input-broker')?.classList.contains('input-error'));
    await page.locator('#node-config-dialog-ok').click();
    await broker.waitFor({ state: 'detached' });
    const saved = await page.evaluate((id) => {
      const n = (window as any).RED.nodes.node(id);
      return { broker: n.broker, username: n.credentials?.username, password: n.credentials?.password, valid: n.valid };
    }, ready.configNodeId);
    assert.deepEqual(saved, { broker: 'mqtt://127.0.0.1:1883', username: 'bob', password: 's3cr@t', valid: true },
      'nothing secret left in the flow');
    // what goes to flows.json (credentials go to the encrypted flows_cred.json)
    const exported = await page.evaluate(() => JSON.stringify((window as any).RED.nodes.createCompleteNodeSet({ credentials: false })));
    assert.ok(!exported.includes('s3cr'), 'the password is not in the flow');
    assert.match(await page.locator('.red-ui-notification').last().textContent() ?? '', /moved from the broker URL/);
  });
});

test('the second GX config node reaches the simulated GX over the demo broker: live values, a confirmed write', async () => {
  await withEditor('remote', async (page) => {
    const ids: Record<string, string> = await page.evaluate((cfg) => {
      const RED = (window as any).RED;
      const out: Record<string, string> = {};
      RED.nodes.eachNode((n: any) => { if (n.server === cfg || n.type === 'debug' || n.type === 'inject') out[n.name] = n.id; });
      return out;
    }, ready.remoteConfigNodeId);
    const notify = ids['battery SoC (over MQTT)'];
    assert.ok(notify && ids['ESS setpoint setting (over MQTT)'] && ids['grid setpoint 50 W (over MQTT)'], JSON.stringify(ids));
    const statusOf = (id: string) => page.evaluate((i) => (window as any).RED.nodes.node(i)?.status ?? null, id);
    // the status Node-RED keeps for each node: connected, and the live value under the debug node
    await page.waitForFunction((i) => (window as any).RED.nodes.node(i)?.status?.text === 'connected', notify, { timeout: 20000 });
    assert.deepEqual(await statusOf(notify), { fill: 'green', shape: 'dot', text: 'connected' });
    await page.waitForFunction((i) => /^\d+(\.\d+)?$/.test(String((window as any).RED.nodes.node(i)?.status?.text ?? '')),
      ids['battery SoC over MQTT (%)'], { timeout: 20000 });
    // the write over MQTT, from its inject button: confirmed (the gx-write status says so)
    await page.evaluate(async (i) => { await fetch(`inject/${i}`, { method: 'POST' }); }, ids['grid setpoint 50 W (over MQTT)']);
    const writer = ids['ESS setpoint setting (over MQTT)'];
    await page.waitForFunction((i) => (window as any).RED.nodes.node(i)?.status?.text === 'written 50', writer, { timeout: 15000 });
    assert.equal((await statusOf(writer)).fill, 'green');
  });
});

test('gx-config: only the fields of the chosen connection, the VRM broker from the portal ID, secrets not in the flow; an old config opens as D-Bus', async () => {
  const oldFlow = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'flows', 'flows-before-sources.json'), 'utf8'));
  const gxTls = await startVenusTlsPort();
  try {
  await withEditor('gx-config-source', async (page) => {
    const visible = (sel: string) => page.locator(sel).first().isVisible();
    await page.evaluate((id) => (window as any).RED.editor.editConfig('', 'gx-config', id), ready.remoteConfigNodeId);
    const source = page.locator('#node-config-input-source');
    await source.waitFor({ state: 'visible' });
    assert.equal(await source.inputValue(), 'lan');
    assert.equal(await visible('#node-config-input-gxUrl'), true);
    assert.equal(await visible('#node-config-input-gxUsername'), true);
    assert.equal(await visible('#node-config-input-dbusAddress'), false, 'no D-Bus field for a GX over MQTT');
    assert.equal(await visible('#node-config-input-vrmEmail'), false);
    assert.equal(await visible('#node-config-input-gxCert'), false, 'no certificate for mqtt://');
    await page.locator('#node-config-input-gxUrl').fill(`mqtts://127.0.0.1:${gxTls.port}`);
    assert.equal(await visible('#node-config-input-gxCert'), true, 'the GX\'s certificate for mqtts://');
    await page.waitForFunction(() => document.querySelector('#node-config-input-gxCert')?.classList.contains('input-error'));
    // "Fetch from the GX": the certificate its TLS port shows, with the fingerprint to compare
    await page.locator('#node-config-gx-cert-fetch').click();
    await page.waitForFunction(() => /BEGIN CERTIFICATE/.test((document.querySelector('#node-config-input-gxCert') as HTMLTextAreaElement)?.value ?? ''));
    assert.equal((await page.locator('#node-config-input-gxCert').inputValue()).trim(), gxTls.pem.trim());
    assert.match(await page.locator('#node-config-gx-cert-info').textContent() ?? '', new RegExp(`CN=venus\\.local.*SHA-256 ${gxTls.fingerprint}`));
    await page.waitForFunction(() => !document.querySelector('#node-config-input-gxCert')?.classList.contains('input-error'));
    await source.selectOption('vrm');
    for (const sel of ['#node-config-input-vrmEmail', '#node-config-input-vrmToken', '#node-config-vrm-host', '#node-config-input-vrmTransport']) {
      assert.equal(await visible(sel), true, sel);
    }
    for (const sel of ['#node-config-input-gxUrl', '#node-config-input-gxCert', '#node-config-input-dbusAddress']) assert.equal(await visible(sel), false, sel);
    assert.equal(await page.locator('#node-config-vrm-host').inputValue(), 'mqtts://mqtt81.victronenergy.com:8883');
    assert.equal(await page.locator('#node-config-vrm-host').getAttribute('readonly'), '');
    await page.locator('#node-config-input-vrmTransport').selectOption('wss');
    assert.equal(await page.locator('#node-config-vrm-host').inputValue(), 'wss://webmqtt81.victronenergy.com/mqtt');
    assert.equal(await visible('#node-config-tip-vrm-login'), true, 'says the login is missing');
    await page.locator('#node-config-input-vrmEmail').fill('owner@example.com');
    await page.locator('#node-config-input-vrmToken').fill('vrm-token-s3cret');
    assert.equal(await visible('#node-config-tip-vrm-login'), false);
    await page.locator('#node-config-input-portalId').fill('');
    await page.locator('#node-config-input-portalId').dispatchEvent('change');
    await page.waitForFunction(() => document.querySelector('#node-config-input-portalId')?.classList.contains('input-error'));
    await page.locator('#node-config-input-portalId').fill('c0619ab1f00d');
    await page.locator('#node-config-dialog-ok').click();
    await source.waitFor({ state: 'detached' });
    const saved = await page.evaluate((id) => {
      const n = (window as any).RED.nodes.node(id);
      return { source: n.source, valid: n.valid, email: n.credentials?.vrmEmail, token: n.credentials?.vrmToken };
    }, ready.remoteConfigNodeId);
    assert.deepEqual(saved, { source: 'vrm', valid: true, email: 'owner@example.com', token: 'vrm-token-s3cret' });
    const exported = await page.evaluate(() => JSON.stringify((window as any).RED.nodes.createCompleteNodeSet({ credentials: false })));
    assert.ok(!exported.includes('vrm-token-s3cret') && !exported.includes('owner@example.com'), 'the login is not in the flow');

    // a flow saved before the choice: its config node opens as D-Bus, brought to the current version
    const oldId = oldFlow.find((n: any) => n.type === 'gx-config').id;
    await page.evaluate((nodes) => (window as any).RED.view.importNodes(nodes), oldFlow);
    assert.equal(await page.evaluate((id) => (window as any).RED.nodes.node(id).version, oldId), undefined);
    assert.equal(await page.evaluate((id) => (window as any).RED.nodes.node(id).valid, oldId), true, 'valid as it is');
    await page.evaluate((id) => (window as any).RED.editor.editConfig('', 'gx-config', id), oldId);
    await source.waitFor({ state: 'visible' });
    assert.equal(await source.inputValue(), 'dbus');
    assert.equal(await visible('#node-config-input-dbusAddress'), true);
    assert.equal(await visible('#node-config-input-gxUrl'), false);
    const migrated = await page.evaluate((id) => {
      const n = (window as any).RED.nodes.node(id);
      return { version: n.version, source: n.source, writePatterns: n.writePatterns };
    }, oldId);
    assert.deepEqual(migrated, { version: 1, source: 'dbus', writePatterns: 'settings/0/Settings/CGwacs/#\nvebus/+/Hub4/#' });
    await page.locator('#node-config-dialog-cancel').click();
  });
  } finally {
    gxTls.server.close();
  }
});

/** A TLS port showing a certificate made as Venus OS makes its broker's (self-signed, venus.local). */
async function startVenusTlsPort(): Promise<{ server: tls.Server; port: number; pem: string; fingerprint: string }> {
  const dir = tempDir('venus-cert');
  execFileSync('openssl', ['req', '-subj', '/CN=venus.local', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-x509',
    '-days', '2', '-out', path.join(dir, 'c.pem')], { stdio: 'pipe' });
  const pem = fs.readFileSync(path.join(dir, 'c.pem'), 'utf8');
  const server = tls.createServer({ key: fs.readFileSync(path.join(dir, 'k.pem')), cert: pem }, (socket) => socket.end());
  fs.rmSync(dir, { recursive: true, force: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, pem, fingerprint: new X509Certificate(pem).fingerprint256 };
}

test('examples share their GX config node: importing two adds one, as Node-RED\'s "Import copy" keeps the existing one', async () => {
  await withEditor('examples', async (page) => {
    const result = await page.evaluate(async () => {
      const RED = (window as any).RED;
      const load = async (name: string) => (await fetch(`library/examples/flows/@gx-bridge/node-red-gx/${name}`)).json();
      const configs = () => { const out: string[] = []; RED.nodes.eachConfig((n: any) => { if (n.type === 'gx-config') out.push(n.id); }); return out; };
      const before = configs().length;
      RED.view.importNodes(await load('read-settings'));
      let conflict = '';
      try {
        RED.view.importNodes(await load('low-soc-alert'));
      } catch (e) {
        conflict = (e as any).code;
        RED.view.importNodes(await load('low-soc-alert'), { generateIds: true }); // "Import copy"
      }
      let users = 0;
      RED.nodes.eachNode((n: any) => { if (n.type === 'gx-notify' && n.server === '92734d7b313b5889') users++; });
      return { added: configs().length - before, conflict, users };
    });
    assert.deepEqual(result, { added: 1, conflict: 'import_conflict', users: 1 });
  });
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
