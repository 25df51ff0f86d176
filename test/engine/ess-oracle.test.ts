// The five ESS recordings on a private bus: after a keep-alive our engine publishes the same
// topics with the same payload shapes as dbus-flashmq did (test/fixtures/oracle/keepalive-full.txt,
// captured from dbus-flashmq: see test/fixtures/README.md).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { loadFile } from '../../src/sim';
import { startEngineFixture, PORTAL } from '../support/engine-fixture';

const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures');
const ORACLE = path.join(FIXTURES, 'oracle');
const ESS = ['vebus', 'solarcharger', 'battery', 'grid', 'pvinverter'];

function oracleLines(file: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of fs.readFileSync(path.join(ORACLE, file), 'utf8').split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0) out.set(line.slice(0, sp), line.slice(sp + 1));
  }
  return out;
}

/** The JSON "shape" of a payload: keys, and for each value integer / double / string / null / array / bool. */
function shape(payload: string): string {
  const kind = (raw: string): string => {
    if (raw === 'null') return 'null';
    if (raw.startsWith('"')) return 'string';
    if (raw.startsWith('[')) return 'array';
    if (raw === 'true' || raw === 'false') return 'bool';
    return /[.eE]/.test(raw) ? 'double' : 'int';
  };
  const m = /^\{(?:"max":(.*?),)?(?:"min":(.*?),)?"value":(.*)\}$/.exec(payload);
  if (!m) return `unparsed ${payload}`;
  return [m[1] !== undefined ? `max:${kind(m[1])}` : '', m[2] !== undefined ? `min:${kind(m[2])}` : '', `value:${kind(m[3])}`].join(' ');
}

test('full publish of the five ESS recordings matches dbus-flashmq topic for topic', async () => {
  const fx = await startEngineFixture({
    beforeStart: async (sim) => {
      for (const s of ESS) for (const def of loadFile(path.join(FIXTURES, 'recordings', `${s}.csv`))) await sim.addService(def);
    },
  });
  try {
    assert.equal(fx.engine.cache.services.size, 5);
    fx.published.length = 0;
    assert.equal(fx.engine.keepaliveRequest(''), 'republish');
    const done = fx.published.findIndex((m) => m.topic === `N/${PORTAL}/full_publish_completed`);
    assert.ok(done > 0, 'full_publish_completed was published');
    const heartbeat = fx.published.findIndex((m) => m.topic === `N/${PORTAL}/heartbeat`);
    assert.equal(heartbeat, done + 1, 'the first heartbeat follows full_publish_completed when the keep-alive made the system alive');
    assert.match(fx.published[done].payload, /^\{"value":\d{10}\}$/);
    const ours = new Map(fx.published.slice(0, done).map((m) => [m.topic, m.payload]));

    const oracle = oracleLines('keepalive-full.txt');
    const wanted = new Map([...oracle].filter(([t]) => ESS.includes(t.split('/')[2])));
    assert.equal(wanted.size, 179 + 535 + 51 + 32 + 28);
    assert.deepEqual([...ours.keys()].sort(), [...wanted.keys()].sort(), 'same topic set');
    assert.ok(!ours.has(`N/${PORTAL}/vebus/257/Interfaces/Mk2/Tunnel`), 'blocked path never published (N6)');

    // The recordings loop, so values differ from the capture; their JSON shapes must not,
    // except for items whose recorded type changes during the replay.
    const changing = new Set<string>();
    for (const s of ESS) {
      for (const def of loadFile(path.join(FIXTURES, 'recordings', `${s}.csv`))) {
        for (const c of def.changes ?? []) changing.add(c.path);
      }
    }
    // /Link/VoltageSense is written into the solar charger by systemcalc, which ran beside the
    // capture but is not part of the recording (it is invalid in the recording).
    changing.add('/Link/VoltageSense');
    const mismatches = [...wanted].filter(([t, p]) => shape(p) !== shape(ours.get(t)!))
      .filter(([t]) => !changing.has('/' + t.split('/').slice(4).join('/')));
    assert.deepEqual(mismatches.map(([t, p]) => `${t}: oracle ${p} ours ${ours.get(t)}`), []);
    // A few exact payloads whose values the replay does not change.
    assert.equal(ours.get(`N/${PORTAL}/battery/256/DeviceInstance`), '{"value":256}');
    assert.equal(ours.get(`N/${PORTAL}/battery/256/HardwareVersion`), '{"value":null}');
    assert.equal(ours.get(`N/${PORTAL}/solarcharger/258/History/Daily/5/Raw`),
      oracle.get(`N/${PORTAL}/solarcharger/258/History/Daily/5/Raw`));
    assert.ok(fx.published.every((m) => !m.retain), 'nothing is retained without a system service');
  } finally {
    await fx.close();
  }
});
