#!/usr/bin/env node
/*
 * Builds sio_core/static/socket.io.min.js and its source map socket.io.min.js.map from
 * sio_core/static/socket.io.js with esbuild, the version pinned in
 * tests/interop/package-lock.json (`npm ci --prefix tests/interop` installs it).
 *
 *   node tests/js/build_bundle.js            rewrites the committed files
 *   node tests/js/build_bundle.js OUT_DIR    writes them into OUT_DIR instead
 *
 * Run it after editing socket.io.js; tests/js/test_bundle_build.py rebuilds into a
 * temporary folder and fails when the committed files differ. The output is ES5, as the
 * source is, and keeps the licence header.
 */
'use strict';

const fs = require('fs');
const path = require('path');

const STATIC = path.join(__dirname, '..', '..', 'sio_core', 'static');
const SOURCE = 'socket.io.js';
const TARGET = 'socket.io.min.js';
const MAP = TARGET + '.map';

const esbuild = require(require.resolve('esbuild', {paths: [path.join(__dirname, '..', 'interop')]}));

function build(source) {
  const result = esbuild.transformSync(source, {
    minify: true,
    target: 'es5',
    legalComments: 'inline',
    charset: 'utf8',
    sourcemap: 'external',
    sourcefile: SOURCE,
    sourcesContent: false,
  });
  const map = JSON.parse(result.map);
  map.file = TARGET;
  return {
    code: result.code + '//# sourceMappingURL=' + MAP + '\n',
    map: JSON.stringify(map) + '\n',
  };
}

const out = process.argv[2] || STATIC;
const built = build(fs.readFileSync(path.join(STATIC, SOURCE), 'utf8'));
fs.writeFileSync(path.join(out, TARGET), built.code);
fs.writeFileSync(path.join(out, MAP), built.map);
