#!/usr/bin/env node
// `npm start`: the whole package on one machine, without a GX. It starts
//   - a private dbus-daemon (own config and socket in a temp folder),
//   - the GX simulator on it with an ESS system recorded by Victron's dbus-recorder, replayed
//     in a loop (test/fixtures/scenarios/ess-gx.json),
//   - an embedded MQTT broker (aedes) on 127.0.0.1,
//   - Node-RED (the node-red devDependency) on 127.0.0.1 with this package and a demo flow
//     (examples/demo/demo-flow.json) whose gx-config node bridges the simulator to the broker,
//     and whose second gx-config node reaches that same GX over the broker, as a Node-RED on
//     another machine reaches a real GX over its MQTT broker,
// prints what runs and what to try, and stops all of it on Ctrl-C / SIGTERM. Only loopback is
// used; files go to the Node-RED user directory (default <project>/.demo) and a temp folder.
//
// For tools and tests it prints one machine-readable line once everything is up:
//   GX_DEMO_READY {"pid":…,"nodeRedPid":…,"dbusDaemonPid":…,"editor":"http://…",…}
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import type { Aedes } from 'aedes';
import { GxSimulator, loadFile } from '../sim';
import { optNumber, optString, parseArgs, UsageError } from './args';
import { findProgram, PrivateBus, startPrivateBus } from './private-bus';

const USAGE = `usage: npm start [-- options]      (or: node dist/src/cli/demo.js [options])
  --port <n>        Node-RED editor port on 127.0.0.1 (default 1880, or env GX_DEMO_PORT)
  --mqtt-port <n>   embedded MQTT broker port on 127.0.0.1 (default 1883, or env GX_DEMO_MQTT_PORT)
  --user-dir <dir>  Node-RED user directory (default <project>/.demo)
  --reset           start again from examples/demo/demo-flow.json (drops your changes to the demo flow)
  --speed <x>       replay speed of the recordings (default 1)
  --verbose         show all of Node-RED's log, not only its warnings and errors
  -h, --help        this text`;

/** The demo flow's gx-config node: the demo points it at the private bus and the broker. */
export const DEMO_CONFIG_ID = '6a7e5d0c9f1b2a31';
/** Its second gx-config node, the GX over MQTT: the demo points it at the broker. */
export const DEMO_REMOTE_CONFIG_ID = '6a7e5d0c9f1b2a32';
const DEMO_TAB_ID = '6a7e5d0c9f1b2a30';
const PORTAL_ID = 'c0619ab1f00d';

// Node-RED warnings that are expected with the demo's settings
const QUIET_WARNINGS = /Projects disabled|Using unencrypted credentials/;

const say = (line = '') => process.stdout.write(line + '\n');
const warn = (line: string) => process.stderr.write(`gx-demo: ${line}\n`);

/** A path as short as it can be: relative to the current folder when inside it. */
function shown(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

/** The package root: the folder with our package.json, above dist/src/cli (or src/cli). */
function projectRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === '@gx-bridge/node-red-gx') return dir;
      } catch {
        // not ours
      }
    }
    if (path.dirname(dir) === dir) throw new Error(`cannot find the project folder above ${__dirname}`);
  }
}

function portOption(value: number | undefined, envName: string, dflt: number, what: string, flag: string): number {
  const env = process.env[envName];
  const v = value ?? (env !== undefined && env !== '' ? Number(env) : dflt);
  if (!Number.isInteger(v) || v < 1 || v > 65535) {
    throw new UsageError(`the ${what} port must be a whole number from 1 to 65535, not '${value ?? env}' (${flag} or ${envName})`);
  }
  return v;
}

/** 'free', or the error code of binding 127.0.0.1:port (EADDRINUSE, EACCES…). */
function probePort(port: number): Promise<string> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve('free')));
  });
}

function portMessage(code: string, port: number, what: string, flag: string, envName: string, dflt: number): string {
  const why = code === 'EADDRINUSE' ? 'is already in use' : code === 'EACCES' ? 'needs more privileges' : `cannot be used (${code})`;
  return `port ${port} on 127.0.0.1 (${what}) ${why}. Choose another one with ${flag} <port> ` +
    `(e.g. npm start -- ${flag} ${dflt + 10000}) or ${envName}=<port>.`;
}

// aedes 1.x is an ES module; TypeScript (CommonJS output) would turn import() into require().
const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<unknown>;

async function startBroker(port: number): Promise<{ aedes: Aedes; server: net.Server }> {
  const mod = await importEsm(pathToFileURL(require.resolve('aedes')).href) as typeof import('aedes');
  const aedes = await mod.Aedes.createBroker();
  const server = net.createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  return { aedes, server };
}

function closeBroker(b: { aedes: Aedes; server: net.Server }): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, 3000);
    b.server.close();
    b.aedes.close(() => { clearTimeout(t); resolve(); });
  });
}

interface DemoFlow {
  nodes: Array<Record<string, unknown>>;
  kept: boolean;
}

/**
 * The flow Node-RED starts with: the user's flows.json from an earlier run (so that changes
 * survive a restart), or the demo flow from examples/ on a tab of its own. Either way the demo
 * gx-config node gets this run's D-Bus address and broker URL.
 */
function prepareFlow(root: string, flowFile: string, reset: boolean, dbus: string, broker: string): DemoFlow {
  let nodes: Array<Record<string, unknown>> | undefined;
  let kept = false;
  if (!reset && fs.existsSync(flowFile)) {
    try {
      const parsed = JSON.parse(fs.readFileSync(flowFile, 'utf8')) as unknown;
      if (Array.isArray(parsed) && parsed.some((n) => n && n.id === DEMO_CONFIG_ID)) {
        nodes = parsed as Array<Record<string, unknown>>;
        kept = true;
      } else {
        warn(`${flowFile} has no demo GX config node; starting again from the demo flow (the old file is kept as flows.json.old)`);
        fs.copyFileSync(flowFile, flowFile + '.old');
      }
    } catch (e) {
      warn(`${flowFile} is not a flow file (${(e as Error).message}); starting again from the demo flow (old file: flows.json.old)`);
      fs.copyFileSync(flowFile, flowFile + '.old');
    }
  }
  if (!nodes) {
    const template = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'demo', 'demo-flow.json'), 'utf8')) as Array<Record<string, unknown>>;
    nodes = [{ id: DEMO_TAB_ID, type: 'tab', label: 'GX demo', disabled: false, info: 'The flow of `npm start`: see the comment nodes.' }];
    for (const n of template) nodes.push(n.type === 'gx-config' ? n : { ...n, z: DEMO_TAB_ID });
  }
  for (const n of nodes) {
    if (n.id === DEMO_CONFIG_ID) {
      n.dbusAddress = dbus;
      n.broker = broker;
    } else if (n.id === DEMO_REMOTE_CONFIG_ID) {
      n.gxUrl = broker; // the GX's "own" broker, as far as this config node can tell
    }
  }
  fs.writeFileSync(flowFile, JSON.stringify(nodes, null, 4) + '\n');
  return { nodes, kept };
}

function nodeRedSettings(root: string, port: number, userDir: string): string {
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: port,
    userDir,
    flowFile: 'flows.json',
    flowFilePretty: true,
    // the demo has no secrets worth encrypting; avoids the "generated key" warning
    credentialSecret: false,
    // this package, loaded straight from the project folder as a Node-RED module
    nodesDir: [root],
    logging: { console: { level: 'info', metrics: false, audit: false } },
    // nothing beyond loopback: no update check, no palette catalogue, no module installs
    telemetry: { enabled: false, updateNotification: false },
    externalModules: {
      autoInstall: false,
      palette: { allowInstall: false, allowUpload: false, allowUpdate: false },
      modules: { allowInstall: false },
    },
    functionExternalModules: false,
    editorTheme: {
      tours: false,
      projects: { enabled: false },
      palette: { categories: ['Victron GX', 'subflows', 'common', 'function', 'network', 'sequence', 'parser', 'storage'] },
      page: { title: 'Node-RED: GX demo' },
      header: { title: 'Node-RED · GX demo' },
    },
  };
  return `// Written by the GX demo (src/cli/demo.ts) at each start.
module.exports = ${JSON.stringify(settings, null, 2)};

// If the demo is killed without a chance to stop us (kill -9), clean up after it: stop its
// dbus-daemon, remove its temp folder, and stop.
const parent = Number(process.env.GX_DEMO_PARENT_PID);
if (parent > 0) {
  const gone = () => {
    if (process.ppid !== parent) return true;
    try { process.kill(parent, 0); return false; } catch (e) { return true; }
  };
  setInterval(() => {
    if (!gone()) return;
    const bus = Number(process.env.GX_DEMO_DBUS_PID);
    if (bus > 0) { try { process.kill(bus, 'SIGTERM'); } catch (e) { /* gone */ } }
    const tmp = process.env.GX_DEMO_TEMP_DIR;
    if (tmp && require('path').basename(tmp).startsWith('gx-demo-')) {
      try { require('fs').rmSync(tmp, { recursive: true, force: true }); } catch (e) { /* best effort */ }
    }
    process.exit(0);
  }, 1000).unref();
}
`;
}

interface Options {
  port: number;
  mqttPort: number;
  userDir: string;
  reset: boolean;
  speed: number;
  verbose: boolean;
}

function parseOptions(root: string): Options | undefined {
  const args = parseArgs(process.argv.slice(2), {
    values: ['port', 'mqtt-port', 'user-dir', 'speed'],
    flags: ['reset', 'verbose', 'help'],
    short: { '-h': 'help' },
  });
  if (args.options.has('help')) {
    say(USAGE);
    return undefined;
  }
  const speed = optNumber(args, 'speed') ?? 1;
  if (!(speed > 0)) throw new UsageError('--speed must be more than 0');
  return {
    port: portOption(optNumber(args, 'port'), 'GX_DEMO_PORT', 1880, 'Node-RED editor', '--port'),
    mqttPort: portOption(optNumber(args, 'mqtt-port'), 'GX_DEMO_MQTT_PORT', 1883, 'MQTT broker', '--mqtt-port'),
    userDir: path.resolve(optString(args, 'user-dir') ?? path.join(root, '.demo')),
    reset: args.options.has('reset'),
    speed,
    verbose: args.options.has('verbose'),
  };
}

class Demo {
  private tmp?: string;
  private bus?: PrivateBus;
  private sim?: GxSimulator;
  private broker?: { aedes: Aedes; server: net.Server };
  private nodeRed?: ChildProcess;
  private nodeRedLog?: fs.WriteStream;
  private nodeRedTail: string[] = [];
  private stopping = false;
  private readonly t0 = Date.now();

  constructor(private readonly root: string, private readonly o: Options) {}

  get isStopping(): boolean {
    return this.stopping;
  }

  async run(): Promise<void> {
    const o = this.o;
    const dbusDaemon = findProgram('dbus-daemon');
    if (!dbusDaemon) {
      throw new UsageError('the demo needs dbus-daemon (the D-Bus message bus) for the GX simulator, and it is not installed.\n' +
        '  Install it with:  sudo apt-get install dbus-daemon\n' +
        '  (other distributions: the "dbus" package), then run npm start again.');
    }
    const redJs = path.join(path.dirname(require.resolve('node-red/package.json')), 'red.js');
    const scenario = path.join(this.root, 'test', 'fixtures', 'scenarios', 'ess-gx.json');
    for (const f of [scenario, path.join(this.root, 'examples', 'demo', 'demo-flow.json')]) {
      if (!fs.existsSync(f)) throw new UsageError(`missing ${f}: the demo runs from a clone of the repository`);
    }
    for (const [port, what, flag, env, dflt] of [
      [o.port, 'Node-RED editor', '--port', 'GX_DEMO_PORT', 1880],
      [o.mqttPort, 'MQTT broker', '--mqtt-port', 'GX_DEMO_MQTT_PORT', 1883],
    ] as const) {
      const r = await probePort(port);
      if (r !== 'free') throw new UsageError(portMessage(r, port, what, flag, env, dflt));
    }
    if (o.port === o.mqttPort) throw new UsageError('--port and --mqtt-port must differ');

    say(`GX demo: starting (project ${this.root})`);
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gx-demo-'));

    // 1. the bus and the simulated GX on it
    this.bus = await startPrivateBus(this.tmp, { program: dbusDaemon, detached: true });
    this.bus.proc.once('exit', (code, sig) => {
      if (!this.stopping) void this.stop(`dbus-daemon stopped unexpectedly (${code ?? sig})`, 1);
    });
    say(`  D-Bus        private dbus-daemon (pid ${this.bus.pid}) at ${this.bus.address}`);
    this.sim = new GxSimulator({ address: this.bus.address });
    this.sim.on('serviceLost', (s: { name: string }) => {
      if (!this.stopping) void this.stop(`the simulator lost its D-Bus connection (${s.name})`, 1);
    });
    const defs = loadFile(scenario);
    await this.sim.addServices(defs);
    const replaying = this.sim.startReplay({ loop: true, speed: o.speed });
    say(`  simulator    ${defs.length} services from ${path.relative(this.root, scenario)}, ${replaying} replaying their recordings in a loop`);

    // 2. the MQTT broker
    try {
      this.broker = await startBroker(o.mqttPort);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code) throw new UsageError(portMessage(code, o.mqttPort, 'MQTT broker', '--mqtt-port', 'GX_DEMO_MQTT_PORT', 1883));
      throw e;
    }
    const firstNotification = new Promise<string>((resolve) => {
      const onPublish = (packet: { topic: string }, client: unknown) => {
        if (client && packet.topic.startsWith(`N/${PORTAL_ID}/`) && packet.topic.split('/').length > 4) {
          this.broker?.aedes.removeListener('publish', onPublish);
          resolve(packet.topic);
        }
      };
      this.broker!.aedes.on('publish', onPublish);
    });
    say(`  MQTT broker  mqtt://127.0.0.1:${o.mqttPort} (embedded aedes)`);

    // 3. Node-RED with the demo flow
    fs.mkdirSync(o.userDir, { recursive: true });
    const flowFile = path.join(o.userDir, 'flows.json');
    const flow = prepareFlow(this.root, flowFile, o.reset, this.bus.address, `mqtt://127.0.0.1:${o.mqttPort}`);
    const settingsFile = path.join(this.tmp, 'settings.js');
    fs.writeFileSync(settingsFile, nodeRedSettings(this.root, o.port, o.userDir));
    const editor = `http://127.0.0.1:${o.port}/`;
    await this.startNodeRed(redJs, settingsFile);
    say(`  Node-RED     ${editor} (pid ${this.nodeRed!.pid}), user directory ${shown(o.userDir)}, log in ${shown(path.join(o.userDir, 'node-red.log'))}`);
    say(`               flow: ${flow.kept ? 'flows.json from your last run (npm start -- --reset restores the demo flow)' : 'examples/demo/demo-flow.json'}`);
    if (flow.nodes.some((n) => n.id === DEMO_REMOTE_CONFIG_ID)) {
      say(`               second GX config "Demo GX over MQTT": the same GX over mqtt://127.0.0.1:${o.mqttPort}, as from another machine`);
    }

    // 4. live values: the bridge publishes notifications once the gx-keepalive node keeps it alive
    const timeout = new Promise<undefined>((resolve) => { setTimeout(() => resolve(undefined), 45000).unref(); });
    const topic = await Promise.race([firstNotification, timeout]);
    if (this.stopping) return;
    const secs = ((Date.now() - this.t0) / 1000).toFixed(1);
    if (topic) say(`  live values  flowing ${secs} s after start (first: ${topic})`);
    else warn(`no notification reached the broker within 45 s; see ${shown(path.join(o.userDir, 'node-red.log'))}`);

    const p = o.mqttPort;
    say('');
    say('Try:');
    say(`  open ${editor}  – live values under the debug nodes and in the debug sidebar (bug icon, right)`);
    say(`  mosquitto_sub -h 127.0.0.1 -p ${p} -v -t 'N/#'`);
    say(`  mosquitto_pub -h 127.0.0.1 -p ${p} -t 'R/${PORTAL_ID}/keepalive' -m ''            (full republish)`);
    say(`  mosquitto_pub -h 127.0.0.1 -p ${p} -t 'R/${PORTAL_ID}/settings/0/Settings/CGwacs/Hub4Mode' -m ''`);
    say(`  mosquitto_pub -h 127.0.0.1 -p ${p} -t 'W/${PORTAL_ID}/settings/0/Settings/CGwacs/Hub4Mode' -m '{"value":3}'`);
    if (!findProgram('mosquitto_sub')) say('  (mosquitto_sub/mosquitto_pub: sudo apt-get install mosquitto-clients)');
    say('Stop with Ctrl-C.');
    say('GX_DEMO_READY ' + JSON.stringify({
      pid: process.pid,
      nodeRedPid: this.nodeRed!.pid,
      dbusDaemonPid: this.bus.pid,
      editor,
      mqttPort: p,
      mqttUrl: `mqtt://127.0.0.1:${p}`,
      dbusAddress: this.bus.address,
      portalId: PORTAL_ID,
      configNodeId: DEMO_CONFIG_ID,
      remoteConfigNodeId: DEMO_REMOTE_CONFIG_ID,
      userDir: o.userDir,
      tempDir: this.tmp,
      liveAfterMs: topic ? Date.now() - this.t0 : null,
    }));
  }

  private startNodeRed(redJs: string, settingsFile: string): Promise<void> {
    const o = this.o;
    this.nodeRedLog = fs.createWriteStream(path.join(o.userDir, 'node-red.log'), { flags: 'a' });
    const proc = spawn(process.execPath, [redJs, '--settings', settingsFile, '--userDir', o.userDir], {
      cwd: o.userDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      // own process group: Ctrl-C reaches only us, and we stop Node-RED first
      detached: true,
      env: {
        ...process.env,
        GX_DEMO_PARENT_PID: String(process.pid),
        GX_DEMO_DBUS_PID: String(this.bus!.pid),
        GX_DEMO_TEMP_DIR: this.tmp!,
        // examples imported from the menu (empty D-Bus address) use the simulator too
        NODE_RED_DBUS_ADDRESS: this.bus!.address,
        NODE_ENV: process.env.NODE_ENV ?? 'production',
      },
    });
    this.nodeRed = proc;
    return new Promise((resolve, reject) => {
      let buf = '';
      let started = false;
      let portInUse = false;
      const onLine = (line: string) => {
        this.nodeRedLog?.write(line + '\n');
        this.nodeRedTail.push(line);
        if (this.nodeRedTail.length > 40) this.nodeRedTail.shift();
        if (/port in use|EADDRINUSE/i.test(line)) portInUse = true;
        if (o.verbose || (/\[(warn|error)\]/.test(line) && !QUIET_WARNINGS.test(line))) say(`  node-red: ${line.replace(/^\d+ \w+ \d{2}:\d{2}:\d{2} - /, '')}`);
        if (!started && /Started flows/.test(line)) {
          started = true;
          resolve();
        }
      };
      const onData = (c: Buffer) => {
        buf += c.toString();
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      const timer = setTimeout(() => {
        if (!started) reject(new Error(`Node-RED did not start within 60 s; the end of its log:\n${this.nodeRedTail.join('\n')}`));
      }, 60000);
      timer.unref();
      proc.once('error', (e) => { if (!started) reject(e); });
      proc.once('exit', (code, sig) => {
        clearTimeout(timer);
        if (!started) {
          if (portInUse) reject(new UsageError(portMessage('EADDRINUSE', o.port, 'Node-RED editor', '--port', 'GX_DEMO_PORT', 1880)));
          else reject(new Error(`Node-RED exited (${code ?? sig}) while starting; the end of its log:\n${this.nodeRedTail.join('\n')}`));
        } else if (!this.stopping) {
          void this.stop(`Node-RED stopped unexpectedly (${code ?? sig}); the end of its log:\n${this.nodeRedTail.slice(-10).join('\n')}`, 1);
        }
      });
    });
  }

  /** Stops everything we started, in order: Node-RED, simulator, broker, dbus-daemon, temp folder. */
  async stop(reason: string, code = 0): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (!this.tmp) process.exit(code); // nothing started yet
    (code ? warn : say)(`${reason}: stopping the demo`);
    const hard = setTimeout(() => {
      warn('stopping took too long: killing what is left');
      this.killAll();
      process.exit(code || 1);
    }, 25000);
    const stopped: string[] = [];
    if (this.nodeRed && this.nodeRed.exitCode === null && this.nodeRed.signalCode === null) {
      const proc = this.nodeRed;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => { try { proc.kill('SIGKILL'); } catch { /* gone */ } }, 12000);
        proc.once('exit', () => { clearTimeout(t); resolve(); });
        try { proc.kill('SIGINT'); } catch { resolve(); }
      });
      stopped.push(`Node-RED (pid ${proc.pid})`);
    }
    await new Promise<void>((resolve) => (this.nodeRedLog ? this.nodeRedLog.end(resolve) : resolve()));
    if (this.sim) {
      await this.sim.stop().catch(() => undefined);
      stopped.push('simulator');
    }
    if (this.broker) {
      await closeBroker(this.broker);
      stopped.push('MQTT broker');
    }
    if (this.bus) {
      await this.bus.stop();
      stopped.push(`dbus-daemon (pid ${this.bus.pid})`);
    }
    this.removeTemp();
    clearTimeout(hard);
    say(`GX demo stopped${stopped.length ? ': ' + stopped.join(', ') : ''}.`);
    process.exit(code);
  }

  /** Last resort (process 'exit', too slow a stop): kill our children, remove the temp folder. */
  killAll(): void {
    for (const p of [this.nodeRed, this.bus?.proc]) {
      if (p && p.exitCode === null && p.signalCode === null) {
        try { p.kill('SIGKILL'); } catch { /* gone */ }
      }
    }
    this.removeTemp();
  }

  private removeTemp(): void {
    if (!this.tmp) return;
    try { fs.rmSync(this.tmp, { recursive: true, force: true }); } catch { /* best effort */ }
    this.tmp = undefined;
  }
}

async function main(): Promise<void> {
  const root = projectRoot();
  let opts: Options | undefined;
  try {
    opts = parseOptions(root);
  } catch (e) {
    throw e instanceof UsageError ? e : new UsageError((e as Error).message);
  }
  if (!opts) return;
  const demo = new Demo(root, opts);
  process.on('exit', () => demo.killAll());
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => { void demo.stop(sig); });
  const unexpected = (e: unknown) => {
    if (demo.isStopping) return; // a connection closing under a client while we stop
    warn(`unexpected error: ${(e as Error)?.stack ?? String(e)}`);
    void demo.stop('error', 1);
  };
  process.on('uncaughtException', unexpected);
  process.on('unhandledRejection', unexpected);
  try {
    await demo.run();
  } catch (e) {
    const usage = e instanceof UsageError;
    warn(usage ? (e as Error).message : `could not start: ${(e as Error).stack ?? (e as Error).message}`);
    await demo.stop('start failed', usage ? 2 : 1);
  }
}

main().catch((e: Error) => {
  warn(e instanceof UsageError ? `${e.message}\n${USAGE}` : e.message);
  process.exit(2);
});
