'use strict';

const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { watch } = require('./lib');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pathwatch-'));
const w = watch(dir, { poll: true, interval: 50, debounce: 10 });
const timeout = setTimeout(() => { w.close(); assert.fail('no change event'); }, 3000);
w.on('change', (e) => {
  clearTimeout(timeout);
  w.close();
  assert.strictEqual(path.basename(e.path), 'a.txt');
  fs.rmSync(dir, { recursive: true, force: true });
  console.log('ok');
});
setTimeout(() => fs.writeFileSync(path.join(dir, 'a.txt'), 'x'), 100);
