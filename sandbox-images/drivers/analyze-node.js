#!/usr/bin/env node
// Paddock's npm driver: install, import or execute one package.
//
//     analyze-node.js PHASE NAME VERSION ARTIFACT
//
// Runs inside the sandbox, in /app. Exit 0: the phase completed; anything
// else: the package failed it.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const APP = process.env.PADDOCK_APP || '/app';
const CALL_TIMEOUT_MS = 1000 * Number(process.env.PADDOCK_CALL_TIMEOUT || 5);

function install(name, version, artifact) {
  const manifest = path.join(APP, 'package.json');
  if (!fs.existsSync(manifest)) {
    fs.writeFileSync(manifest, JSON.stringify({ name: 'paddock-analysis', version: '0.0.0', private: true }));
  }
  const spec = artifact || `${name}@${version}`;
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts', '--no-save', spec], {
    cwd: APP,
    stdio: 'inherit',
  });
  if (r.error) {
    console.error(`paddock: npm could not start: ${r.error.message}`);
    return 1;
  }
  return r.status === null ? 1 : r.status;
}

async function load(name) {
  const resolved = require.resolve.paths(name) && path.join(APP, 'node_modules', name);
  if (!fs.existsSync(resolved)) {
    console.error(`paddock: ${name} is not installed`);
    return null;
  }
  try {
    const m = require(resolved);
    console.log(`paddock: required ${name}`);
    return m;
  } catch (e) {
    if (e && e.code === 'ERR_REQUIRE_ESM') {
      try {
        const m = await import(require.resolve(resolved));
        console.log(`paddock: imported ${name} (ES module)`);
        return m;
      } catch (e2) {
        console.error(`paddock: importing ${name} failed: ${e2 && e2.stack}`);
        return undefined;
      }
    }
    console.error(`paddock: requiring ${name} failed: ${e && e.stack}`);
    return undefined;
  }
}

function withTimeout(value) {
  if (!value || typeof value.then !== 'function') return Promise.resolve(value);
  return Promise.race([
    value,
    new Promise((_, reject) => setTimeout(() => reject(new Error('call timed out')), CALL_TIMEOUT_MS).unref()),
  ]);
}

async function call(label, fn, isClass) {
  try {
    const result = isClass ? new fn() : fn();
    await withTimeout(result);
    console.log(`paddock: called ${label}`);
  } catch (e) {
    console.error(`paddock: calling ${label} failed: ${e && e.message}`);
  }
}

function isClass(fn) {
  try {
    return /^class[\s{]/.test(Function.prototype.toString.call(fn));
  } catch (_) {
    return false;
  }
}

async function execute(name) {
  const m = await load(name);
  if (m === null) return 1;
  if (m === undefined) return 0;
  if (typeof m === 'function') await call(name, m, isClass(m));
  if (m && (typeof m === 'object' || typeof m === 'function')) {
    for (const key of Object.keys(m)) {
      let value;
      try {
        value = m[key];
      } catch (_) {
        continue;
      }
      if (typeof value === 'function') await call(`${name}.${key}`, value, isClass(value));
    }
  }
  return 0;
}

async function main(argv) {
  if (argv.length !== 4) {
    console.error('usage: analyze-node.js PHASE NAME VERSION ARTIFACT');
    return 2;
  }
  const [phase, name, version, artifact] = argv;
  switch (phase) {
    case 'install':
      return install(name, version, artifact);
    case 'import':
      return (await load(name)) === null ? 1 : 0;
    case 'execute':
      return execute(name);
    default:
      console.error(`paddock: unknown phase ${phase}`);
      return 2;
  }
}

// The exit code is set, not forced: whatever the package started (a
// connection, a lookup, a timer) runs to its end, inside the phase's time.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // ...but a server or an interval would keep it alive for ever: two
    // seconds of grace, then the phase ends.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (e) => {
    console.error(`paddock: driver failed: ${e && e.stack}`);
    process.exit(1);
  },
);
