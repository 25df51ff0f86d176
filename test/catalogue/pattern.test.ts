// Path patterns: which pattern wins, what is captured, what is refused.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { PatternTree, pathElements } from '../../src/catalogue/path-pattern';

test('the most specific pattern wins, element by element from the left', () => {
  const t = new PatternTree<string>();
  t.add('/Dc/0/Voltage', 'main');
  t.add('/Dc/#/Voltage', 'indexed');
  t.add('/Dc/*/Voltage', 'any');
  t.add('/Ac/L#/Power', 'phase');
  t.add('/Ac/#/Power', 'number');
  t.add('/Ac/*/Power', 'anything');
  assert.deepEqual(t.match('/Dc/0/Voltage'), { value: 'main', captures: [] });
  assert.deepEqual(t.match('/Dc/1/Voltage'), { value: 'indexed', captures: ['1'] });
  assert.deepEqual(t.match('/Dc/In/Voltage'), { value: 'any', captures: ['In'] });
  assert.deepEqual(t.match('/Ac/L3/Power'), { value: 'phase', captures: ['3'] });
  assert.deepEqual(t.match('/Ac/12/Power'), { value: 'number', captures: ['12'] });
  assert.deepEqual(t.match('/Ac/L/Power'), { value: 'anything', captures: ['L'] });
  assert.deepEqual(t.match('/Ac/Lx1/Power'), { value: 'anything', captures: ['Lx1'] });
});

test('a failing literal branch falls back to the wildcard', () => {
  const t = new PatternTree<string>();
  t.add('/Settings/Devices/Special/Mode', 'special mode');
  t.add('/Settings/Devices/*/CustomName', 'name');
  t.add('/Settings/Generator#/Soc/Enabled', 'generator');
  assert.deepEqual(t.match('/Settings/Devices/Special/CustomName'), { value: 'name', captures: ['Special'] });
  assert.deepEqual(t.match('/Settings/Generator1/Soc/Enabled'), { value: 'generator', captures: ['1'] });
  assert.equal(t.match('/Settings/Generator/Soc/Enabled'), undefined);
  assert.equal(t.match('/Settings/Devices/Special'), undefined, 'an inner node without an entry is no match');
  assert.equal(t.match('/Settings/Devices/Special/Mode/Extra'), undefined);
});

test('malformed patterns and paths', () => {
  const t = new PatternTree<number>();
  for (const bad of ['', '/', 'Soc', '/Soc/', '//Soc', '/A#B/C', '/#*/x', '/a/b*']) assert.throws(() => t.add(bad, 1), Error, bad);
  t.add('/A/#', 1);
  assert.throws(() => t.add('/A/#', 2), /twice/);
  for (const p of ['', '/', 'A/1', '/A/1/']) assert.equal(t.match(p), undefined, p);
  assert.deepEqual(pathElements('/a/b'), ['a', 'b']);
  assert.equal(pathElements('/'), undefined);
});
