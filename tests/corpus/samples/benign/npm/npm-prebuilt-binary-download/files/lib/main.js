'use strict';

const fs = require('fs');
const { spawn } = require('child_process');
const { binaryPath } = require('./platform');

function ensureBinary() {
  const bin = binaryPath();
  if (!fs.existsSync(bin)) {
    throw new Error(`swiftbundle: binary not found at ${bin}; reinstall, or set SWIFTBUNDLE_BINARY_PATH`);
  }
  return bin;
}

// build({ entryPoints: ['src/index.ts'], outfile: 'dist/out.js', minify: true })
function build(options) {
  const args = [...options.entryPoints];
  if (options.outfile) args.push(`--outfile=${options.outfile}`);
  if (options.minify) args.push('--minify');
  if (options.bundle !== false) args.push('--bundle');
  if (options.target) args.push(`--target=${options.target}`);
  return new Promise((resolve, reject) => {
    const child = spawn(ensureBinary(), args, { stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(stderr.trim() || `exit ${code}`))));
  });
}

module.exports = { build, binaryPath, version: require('../package.json').version };
