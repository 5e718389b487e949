'use strict';

const fs = require('fs');
const path = require('path');

// Polls a directory tree and reports files whose mtime or size changed.
module.exports = function poll(root, report, interval) {
  let previous = snapshot(root);
  const timer = setInterval(() => {
    const next = snapshot(root);
    for (const [file, sig] of next) {
      if (previous.get(file) !== sig) report(previous.has(file) ? 'change' : 'rename', file);
    }
    for (const file of previous.keys()) {
      if (!next.has(file)) report('rename', file);
    }
    previous = next;
  }, interval);
  timer.unref();
  return () => clearInterval(timer);
};

function snapshot(root, rel = '', out = new Map()) {
  let entries = [];
  try {
    entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
  } catch (_) {
    return out;
  }
  for (const entry of entries) {
    const child = path.join(rel, entry.name);
    if (entry.isDirectory()) {
      snapshot(root, child, out);
    } else {
      try {
        const st = fs.statSync(path.join(root, child));
        out.set(child, `${st.mtimeMs}:${st.size}`);
      } catch (_) {
        // Removed between readdir and stat.
      }
    }
  }
  return out;
}
