// Every message key the editor files use exists in the node's en-US catalogue, so the editor
// never shows a raw key such as "gx-read.picker.loaded" in a form, a tip or the path picker.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { DIST } from '../support/bridge-process';

const ROOT = path.join(DIST, '..');
const TYPES = ['gx-config', 'gx-notify', 'gx-read', 'gx-write', 'gx-keepalive'];
const PICKER_USERS = ['gx-notify', 'gx-read', 'gx-write'];

function catalogue(type: string): Set<string> {
  const keys = new Set<string>();
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (v && typeof v === 'object') walk(v as Record<string, unknown>, key);
      else keys.add(key.replace(/_plural$/, ''));
    }
  };
  walk(JSON.parse(fs.readFileSync(path.join(ROOT, 'nodes', type, 'locales', 'en-US', `${type}.json`), 'utf8')), '');
  return keys;
}

function matches(text: string, re: RegExp): string[] {
  return [...text.matchAll(re)].map((m) => m[1]);
}

test('every key used by the editor files is in the catalogue', () => {
  for (const type of TYPES) {
    const keys = catalogue(type);
    const html = fs.readFileSync(path.join(ROOT, 'nodes', type, `${type}.html`), 'utf8');
    const used = new Set<string>();
    for (const attr of matches(html, /data-i18n="([^"]+)"/g)) {
      for (const part of attr.split(';')) {
        const key = part.replace(/^\[[a-z]+\]/, '');
        if (!key.startsWith('node-red:')) used.add(key);
      }
    }
    for (const key of matches(html, /\._\("([^"]+)"/g)) if (!key.endsWith(".")) used.add(key);
    for (const key of matches(html, /\bt\("([^"]+)"/g)) used.add(`${type}.${key}`);
    assert.ok(used.size > 5, `${type}: keys found in the editor file`);
    const missing = [...used].filter((k) => !keys.has(k));
    assert.deepEqual(missing, [], `${type}: keys missing from locales/en-US/${type}.json`);
    assert.ok(fs.existsSync(path.join(ROOT, 'nodes', type, 'locales', 'en-US', `${type}.html`)), `${type} has its help`);
  }
});

test('every key the shared path picker uses is in the catalogues of the nodes that use it', () => {
  const js = fs.readFileSync(path.join(ROOT, 'resources', 'path-picker.js'), 'utf8');
  const used = new Set([...matches(js, /\b(?:say|text)\("([^"]+)"/g)]);
  assert.ok(used.has('picker.loaded') && used.has('picker.more') && used.has('picker.count'), [...used].join(' '));
  for (const type of PICKER_USERS) {
    const keys = catalogue(type);
    const missing = [...used].filter((k) => !keys.has(`${type}.${k}`));
    assert.deepEqual(missing, [], `${type}: picker keys missing`);
    const raw = JSON.parse(fs.readFileSync(path.join(ROOT, 'nodes', type, 'locales', 'en-US', `${type}.json`), 'utf8'))[type].picker;
    // counts say "1 item", "2 items"
    for (const k of ['loaded', 'matching', 'more', 'count']) {
      assert.ok(raw[`${k}_plural`], `${type}: picker.${k} has a plural form`);
      assert.doesNotMatch(raw[k], /items/, `${type}: picker.${k} (one) says "item"`);
    }
  }
});
