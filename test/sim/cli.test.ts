// The gx-sim command: starts against a private bus, answers dbus-send, replays, and exits
// cleanly on SIGTERM / SIGINT.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as path from 'path';
import { startPrivateBus } from '../support/dbus-daemon';
import { startProcess } from '../support/processes';
import { Variant } from '../../src/sim';
import { Client, dbusSend, fixture, isItemsChanged, isOwnerChange, repoRoot } from './helpers';

const CLI = path.join(repoRoot(), 'dist', 'src', 'cli', 'gx-sim.js');

function exited(proc: import('child_process').ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) resolve(proc.exitCode);
    else proc.once('exit', (code) => resolve(code));
  });
}

test('gx-sim exports recordings + scenario + synthetic, answers dbus-send, replays, stops on SIGTERM', async () => {
  const bus = await startPrivateBus({ tcp: true });
  const client = await Client.connect(bus.address);
  let started: Awaited<ReturnType<typeof startProcess>> | undefined;
  try {
    await client.watch();
    started = await startProcess(process.execPath, [CLI, '--bus', bus.tcpAddress!, '--speed', '20',
      fixture('recordings', 'battery.csv'), fixture('recordings', 'tank_fuel.csv'), fixture('scenarios', 'basic.json'),
      '--synthetic', '2x10'], (out) => out.includes('ready:'));
    const out = started.output();
    assert.match(out, /exported com\.victronenergy\.battery\.ttyO0 as :\d+\.\d+: 51 paths/);
    assert.match(out, /exported com\.victronenergy\.tank\.socketcan_can0_di3_uc69 /);
    assert.match(out, /exported com\.victronenergy\.battery\.scenario /);
    assert.match(out, /exported com\.victronenergy\.settings /);
    assert.match(out, /exported com\.victronenergy\.synthetic\.s1 .*: 10 paths/);
    assert.match(out, /ready: 6 services on tcp:.*, 3 replaying at speed 20, looping/);

    const r = await dbusSend(bus.address, ['--print-reply', '--dest=com.victronenergy.battery.ttyO0', '/DeviceInstance',
      'com.victronenergy.BusItem.GetValue']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /variant\s+uint32 256/);
    const g = await dbusSend(bus.address, ['--print-reply', '--dest=com.victronenergy.battery.ttyO0', '/',
      'com.victronenergy.BusItem.GetItems']);
    assert.match(g.stdout, /string "\/Soc"\s+array \[\s+dict entry\(\s+string "Value"\s+variant\s+double 100\s/);
    // replaying at speed 20: battery changes from the recording arrive
    const ic = await client.waitFor((m) => isItemsChanged(m) && '/Dc/0/Power' in (m.body[0] as object), 3000);
    assert.equal((ic.body[0] as Record<string, { Value: Variant }>)['/Dc/0/Power'].Value.signature, 'd');

    const owner = (await client.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'GetNameOwner', 's',
      ['com.victronenergy.battery.ttyO0'], 'org.freedesktop.DBus')).body[0] as string;
    started.proc.kill('SIGTERM');
    assert.equal(await exited(started.proc), 0);
    await client.waitFor(isOwnerChange('com.victronenergy.battery.ttyO0', (o, n) => o === owner && n === ''));
  } finally {
    if (started && started.proc.exitCode === null) started.proc.kill('SIGKILL');
    await client.close();
    await bus.stop();
  }
});

test('gx-sim exits on SIGINT too, and with status 2 and usage on bad arguments', async () => {
  const bus = await startPrivateBus();
  try {
    const s = await startProcess(process.execPath, [CLI, `--bus=${bus.address}`, '--no-loop', fixture('recordings', 'grid.csv')],
      (out) => out.includes('ready:'));
    assert.match(s.output(), /ready: 1 services on unix:.*, 1 replaying at speed 1\n/);
    s.proc.kill('SIGINT');
    assert.equal(await exited(s.proc), 0);

    for (const args of [[], ['--bus', bus.address], ['--bus', bus.address, '--synthetic', '3'], ['--bogus']]) {
      const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      p.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
      assert.equal(await exited(p), 2, args.join(' '));
      assert.match(err, /usage: gx-sim --bus/);
    }
  } finally {
    await bus.stop();
  }
});
