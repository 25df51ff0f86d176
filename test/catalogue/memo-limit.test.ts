// Past the memo limit lookups still answer correctly; the memo stops growing (its own process,
// so that the memo starts empty).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { catalogueStats, describePath, MEMO_LIMIT } from '../../src/catalogue';

test('more distinct paths than the memo keeps: right answers, bounded memo', () => {
  const n = MEMO_LIMIT + 5000;
  for (let i = 0; i < n; i++) {
    assert.equal(describePath('settings', `/Settings/Devices/dev${i}/CustomName`)?.label, `Device dev${i} custom name`);
    assert.equal(describePath('battery', `/NoSuchPath${i}`), undefined);
  }
  assert.equal(catalogueStats().memoEntries, MEMO_LIMIT);
  assert.equal(describePath('settings', `/Settings/Devices/dev${n - 1}/CustomName`)?.label, `Device dev${n - 1} custom name`);
});
