// Writes bounded and coalesced per item (issue 14 #9): order per item kept, newest wins.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { WriteQueue, WriteQueueFullError } from '../../src/bridge/write-queue';

function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => { open = r; });
  return { p, open };
}

test('one call per item in flight, newer waiting writes supersede older ones, the last requested runs last', async () => {
  const q = new WriteQueue<number>(4, 10);
  const ran: number[] = [];
  const g = gate();
  const results = Array.from({ length: 100 }, (_, n) => q.run('item', async () => { ran.push(n); if (n === 0) await g.p; return n; }));
  assert.equal(q.active, 1);
  assert.equal(q.queued, 1);
  g.open();
  const outcomes = await Promise.all(results);
  assert.deepEqual(ran, [0, 99], 'the first call, then the newest');
  assert.deepEqual(outcomes[0], { ran: true, value: 0 });
  assert.deepEqual(outcomes[99], { ran: true, value: 99 });
  assert.ok(outcomes.slice(1, 99).every((o) => !o.ran && o.superseded));
});

test('different items run side by side up to the limit; beyond the waiting limit writes are refused', async () => {
  const q = new WriteQueue<string>(2, 3);
  const g = gate();
  const started: string[] = [];
  const p = ['a', 'b', 'c', 'd', 'e'].map((k) => q.run(k, async () => { started.push(k); await g.p; return k; }));
  assert.deepEqual(started, ['a', 'b']);
  assert.equal(q.queued, 3);
  await assert.rejects(q.run('f', async () => 'f'), WriteQueueFullError);
  // a newer write to an item already waiting is not refused: it takes that place
  const c2 = q.run('c', async () => { started.push('c2'); return 'c2'; });
  g.open();
  const all = await Promise.all([...p, c2]);
  assert.deepEqual(all.map((o) => (o.ran ? o.value : 'superseded')), ['a', 'b', 'superseded', 'd', 'e', 'c2']);
  assert.deepEqual(started.sort(), ['a', 'b', 'c2', 'd', 'e']);
});

test('a failing call rejects only its own write; close rejects what waits', async () => {
  const q = new WriteQueue<number>(1, 10);
  const g = gate();
  const first = q.run('a', async () => { await g.p; throw new Error('boom'); });
  const waiting = q.run('b', async () => 2);
  q.close(new Error('closed'));
  g.open();
  await assert.rejects(first, /boom/);
  await assert.rejects(waiting, /closed/);
  await assert.rejects(q.run('c', async () => 3), /closed/);
});
