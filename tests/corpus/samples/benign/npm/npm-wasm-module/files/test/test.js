'use strict';

const assert = require('assert');
const { fnv1a, fnv1aJs } = require('../lib');

// Reference values from the FNV test suite (FNV-1a, 32 bit).
const vectors = [
  ['', 0x811c9dc5],
  ['a', 0xe40c292c],
  ['foobar', 0xbf9cf968],
];
for (const [input, expected] of vectors) {
  assert.strictEqual(fnv1a(input), expected, `wasm ${JSON.stringify(input)}`);
  assert.strictEqual(fnv1aJs(Buffer.from(input)), expected, `js ${JSON.stringify(input)}`);
}
const big = Buffer.alloc(200000, 7);
assert.strictEqual(fnv1a(big), fnv1aJs(big));
console.log('ok');
