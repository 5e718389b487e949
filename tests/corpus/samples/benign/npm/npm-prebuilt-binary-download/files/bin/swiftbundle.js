#!/usr/bin/env node
'use strict';

// Thin shim: runs the native binary with the same arguments.
const { spawnSync } = require('child_process');
const { binaryPath } = require('../lib/platform');

const result = spawnSync(binaryPath(), process.argv.slice(2), { stdio: 'inherit' });
if (result.error) {
  console.error(`swiftbundle: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status === null ? 1 : result.status);
