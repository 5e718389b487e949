'use strict';

const records = [];

function timer(name) {
  const start = process.hrtime.bigint();
  return {
    stop() {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      records.push({ name: name || 'step', ms });
      return ms;
    },
  };
}

function size(bytes) {
  const units = ['B', 'kB', 'MB', 'GB'];
  let n = Number(bytes) || 0;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return n.toFixed(i ? 1 : 0) + ' ' + units[i];
}

function summary() {
  return records.map((r) => `${r.name.padEnd(20)} ${r.ms.toFixed(1)} ms`).join('\n');
}

module.exports = { timer, size, summary };
