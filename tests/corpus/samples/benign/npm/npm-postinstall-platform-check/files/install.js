#!/usr/bin/env node
'use strict';

// Tells the user which backend pathwatch will use on this machine. Purely
// informational: the install never fails because of it.
const { platform, arch, versions, env } = process;

function backendFor(os) {
  switch (os) {
    case 'darwin':
      return 'fsevents (recursive fs.watch)';
    case 'win32':
      return 'ReadDirectoryChangesW (recursive fs.watch)';
    case 'linux':
      return Number(versions.node.split('.')[0]) >= 20
        ? 'inotify (recursive fs.watch)'
        : 'inotify, one watch per directory';
    default:
      return 'stat polling every 500 ms';
  }
}

function quiet() {
  return Boolean(env.CI) || env.npm_config_loglevel === 'silent' || env.PATHWATCH_QUIET === '1';
}

try {
  const major = Number(versions.node.split('.')[0]);
  if (major < 16) {
    console.warn(`pathwatch: Node.js ${versions.node} is not supported (need >= 16); watching may be unreliable.`);
  }
  if (!quiet()) {
    console.log(`pathwatch: ${platform}-${arch}, using ${backendFor(platform)}.`);
  }
} catch (_) {
  // Never fail an install over a notice.
}
