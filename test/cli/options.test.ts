// Command-line mistakes stop our commands with exit status 2 and say what is wrong: a
// misspelt or inconsistent option must never leave writes open (gx-bridge, gx-sim, the demo).
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as path from 'path';
import { startPrivateBus, PrivateBus } from '../support/dbus-daemon';
import { startMosquitto, Broker } from '../support/mosquitto';
import { startBridge, DIST } from '../support/bridge-process';

const cli = (name: string) => path.join(DIST, 'src', 'cli', `${name}.js`);

function run(name: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [cli(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const t = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`${name} ${args.join(' ')} did not exit; ${out}${err}`)); }, 10000);
    p.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
    p.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
    p.on('exit', (code) => { clearTimeout(t); resolve({ code, out, err }); });
  });
}

let bus: PrivateBus;
let broker: Broker;

before(async () => {
  bus = await startPrivateBus();
  broker = await startMosquitto();
});

after(async () => {
  await broker?.stop();
  await bus?.stop();
});

test('gx-bridge refuses unknown, misspelt and inconsistent options with status 2, before it connects anywhere', async () => {
  const base = ['--dbus', 'unix:path=/nonexistent/bus', '--broker', 'mqtt://127.0.0.1:1'];
  const cases: Array<[string[], RegExp]> = [
    [['--write-patterns', 'vebus/+/Hub4/#'], /--write-patterns only works with --write-policy patterns \(the policy is 'all'\)/],
    [['--write-policy', 'none', '--write-patterns', 'vebus/+/Hub4/#'], /--write-patterns only works with --write-policy patterns/],
    [['--write-polcy', 'none'], /unknown option --write-polcy \(did you mean --write-policy\?\)/],
    [['--write-policy', 'patterns'], /--write-policy patterns needs --write-patterns with at least one filter/],
    [['--write-policy', 'patterns', '--write-patterns', ' , '], /needs --write-patterns with at least one filter/],
    [['--write-policy', 'patterns', '--write-patterns', 'vebus/#/Hub4'], /--write-patterns: invalid write pattern 'vebus\/#\/Hub4'/],
    [['--write-policy', 'sometimes'], /--write-policy must be all, none, patterns, not 'sometimes'/],
    [['--write-policy', 'none', '--write-policy', 'all'], /--write-policy is given twice/],
    [['--mode', 'legacyy'], /--mode must be flashmq, legacy/],
    [['--mqtt-version', '4'], /--mqtt-version must be auto, 5, 3\.1\.1/],
    [['--keepalive-seconds', '0'], /--keepalive-seconds must be more than 0/],
    [['--keepalive-seconds', 'soon'], /--keepalive-seconds must be a non-negative number/],
    [['--verbose=yes'], /--verbose takes no value/],
    [['--password', 'secret'], /--password needs --username/],
    [['--ca', '/etc/hostname'], /--ca given, but mqtt:\/\/127\.0\.0\.1:1 does not use TLS/],
    [['--portal-id', 'a/b'], /--portal-id must be one topic level/],
    [['--portal-id'], /--portal-id needs a value/],
    [['extra'], /unexpected argument 'extra'/],
    [['-x'], /unknown option -x/],
  ];
  for (const [more, re] of cases) {
    const r = await run('gx-bridge', [...base, ...more]);
    assert.equal(r.code, 2, `${more.join(' ')}: ${r.err}`);
    assert.match(r.err, re, more.join(' '));
    assert.doesNotMatch(r.err, /secret/, 'no password in the message');
  }
  for (const args of [['--dbus', 'system'], ['--broker', 'http://example.com'], ['--broker', 'mqtts://x', '--cert', 'c.pem']]) {
    const r = await run('gx-bridge', args);
    assert.equal(r.code, 2, args.join(' '));
  }
  const help = await run('gx-bridge', ['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /--write-patterns needs --write-policy patterns/);
});

test('gx-bridge says that --insecure does nothing without TLS, and starts', async () => {
  const b = await startBridge(['--dbus', bus.address, '--broker', broker.url, '--portal-id', 'optstest0001', '--insecure']);
  try {
    assert.match(b.output(), /--insecure has no effect: the broker URL does not use TLS/);
  } finally {
    await b.stop();
  }
});

test('gx-sim and the demo refuse unknown and misspelt options with status 2', async () => {
  const sim: Array<[string[], RegExp]> = [
    [['--bus', bus.address, '--speeed', '2', 'x.csv'], /unknown option --speeed \(did you mean --speed\?\)/],
    [['--bus', bus.address, '--no-loop=1', 'x.csv'], /--no-loop takes no value/],
    [['--bus', bus.address, '--rate', '5', 'x.csv'], /--rate and --batch need --synthetic NxM/],
    [['--bus', bus.address, '--signals', 'loud', 'x.csv'], /--signals must be both, items, properties, none/],
  ];
  for (const [args, re] of sim) {
    const r = await run('gx-sim', args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, re);
  }
  for (const [args, re] of [[['--prot', '1880'], /unknown option --prot \(did you mean --port\?\)/], [['--reset=yes'], /--reset takes no value/],
    [['--speed', '0'], /--speed must be more than 0/]] as Array<[string[], RegExp]>) {
    const r = await run('demo', args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, re);
  }
});
