#!/usr/bin/env node
// Makes sure the system programs the tests drive are present: a real dbus-daemon and a real
// mosquitto broker with its command-line clients. Installs the Debian packages when they are
// missing and we are root with apt-get; otherwise stops with one clear message.
'use strict';
const { execFileSync, spawnSync } = require('child_process');

const needed = [
  { program: 'dbus-daemon', pkg: 'dbus-daemon' },
  { program: 'dbus-send', pkg: 'dbus-bin' },
  { program: 'mosquitto', pkg: 'mosquitto' },
  { program: 'mosquitto_sub', pkg: 'mosquitto-clients' },
  { program: 'mosquitto_pub', pkg: 'mosquitto-clients' },
];
if (process.argv.includes('--browser')) needed.push({ program: 'chromium', pkg: 'chromium' });

const PATHS = (process.env.PATH || '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin']);
function has(program) {
  return PATHS.some((dir) => {
    try { execFileSync('test', ['-x', `${dir}/${program}`]); return true; } catch { return false; }
  });
}

const missing = needed.filter((n) => !has(n.program));
if (missing.length === 0) process.exit(0);
const pkgs = [...new Set(missing.map((m) => m.pkg))];
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (isRoot && has('apt-get')) {
  console.log(`Installing system packages for the tests: ${pkgs.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const upd = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const inst = upd.status === 0
    ? spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env })
    : upd;
  if (inst.status === 0 && needed.every((n) => has(n.program))) process.exit(0);
}
console.error(`Missing programs: ${missing.map((m) => m.program).join(', ')}.\n` +
  `Install them with:  sudo apt-get install ${pkgs.join(' ')}`);
process.exit(1);
