'use strict';

const fs = require('fs');
const path = require('path');
const { EventEmitter } = require('events');
const poll = require('./backends/poll');

function nativeRecursive() {
  if (process.platform === 'darwin' || process.platform === 'win32') return true;
  return process.platform === 'linux' && Number(process.versions.node.split('.')[0]) >= 20;
}

function watch(target, options = {}) {
  const emitter = new EventEmitter();
  const root = path.resolve(target);
  const debounceMs = options.debounce ?? 50;
  const pending = new Map();

  const report = (event, file) => {
    const full = file ? path.join(root, file.toString()) : root;
    clearTimeout(pending.get(full));
    pending.set(full, setTimeout(() => {
      pending.delete(full);
      emitter.emit('change', { event, path: full });
    }, debounceMs));
  };

  let closer;
  if (options.poll || !['darwin', 'win32', 'linux'].includes(process.platform)) {
    closer = poll(root, report, options.interval ?? 500);
  } else {
    const watcher = fs.watch(root, { recursive: nativeRecursive() && options.recursive !== false }, report);
    watcher.on('error', (err) => emitter.emit('error', err));
    closer = () => watcher.close();
  }

  emitter.close = () => {
    for (const t of pending.values()) clearTimeout(t);
    pending.clear();
    closer();
  };
  return emitter;
}

module.exports = { watch };
