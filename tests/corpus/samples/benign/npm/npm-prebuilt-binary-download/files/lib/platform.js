'use strict';

const path = require('path');

const SUPPORTED = ['darwin-arm64', 'darwin-x64', 'linux-arm64', 'linux-x64', 'win32-x64'];

function platformKey() {
  return `${process.platform}-${process.arch}`;
}

function binaryPath() {
  if (process.env.SWIFTBUNDLE_BINARY_PATH) return process.env.SWIFTBUNDLE_BINARY_PATH;
  const exe = process.platform === 'win32' ? 'swiftbundle.exe' : 'swiftbundle';
  return path.join(__dirname, '..', 'bin', exe);
}

module.exports = { SUPPORTED, platformKey, binaryPath };
