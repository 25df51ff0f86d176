#!/usr/bin/env node
// Copies what Node-RED loads next to each compiled node file: the editor .html, the locales
// folder and the icons (Node-RED looks for icons/ beside the node's .js); and the data files of
// src/ (*.json such as src/catalogue/catalogue.json, and the *.md notes that credit them) next to
// the compiled code, so that they ship in the package.
'use strict';
const fs = require('fs');
const path = require('path');

const top = path.join(__dirname, '..');
const nodesDir = path.join(top, 'nodes');
for (const type of fs.readdirSync(nodesDir)) {
  const src = path.join(nodesDir, type);
  if (!fs.statSync(src).isDirectory()) continue;
  const dst = path.join(top, 'dist', 'nodes', type);
  fs.mkdirSync(dst, { recursive: true });
  for (const entry of fs.readdirSync(src)) {
    if (entry.endsWith('.ts')) continue;
    fs.cpSync(path.join(src, entry), path.join(dst, entry), { recursive: true });
  }
  fs.cpSync(path.join(top, 'icons'), path.join(dst, 'icons'), { recursive: true });
}

function copyData(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) copyData(p);
    else if (e.name.endsWith('.json') || e.name.endsWith('.md')) {
      const dst = path.join(top, 'dist', path.relative(top, p));
      fs.mkdirSync(path.dirname(dst), { recursive: true });
      fs.copyFileSync(p, dst);
    }
  }
}
copyData(path.join(top, 'src'));
