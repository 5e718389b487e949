'use strict';

const assert = require('assert');
const t = require('../lib');

const samples = ['', 'plain ascii', 'Grüße', '€100 — “quoted”', '日本語', 'emoji 😀 ok'];
for (const s of samples) {
  const bytes = t.utf8Encode(s);
  assert.deepStrictEqual(Buffer.from(bytes), Buffer.from(s, 'utf8'), s);
  assert.strictEqual(t.utf8Decode(bytes), s);
  assert.strictEqual(t.base64Encode(bytes), Buffer.from(s, 'utf8').toString('base64'));
  assert.deepStrictEqual(Buffer.from(t.base64Decode(t.base64Encode(bytes))), Buffer.from(bytes));
}
assert.strictEqual(t.utf8Decode(Uint8Array.of(0xc3)), '\ufffd');
assert.strictEqual(t.cp1252Decode(Uint8Array.of(0x80, 0x93, 0x41, 0x94)), '€“A”');
assert.deepStrictEqual(Array.from(t.cp1252Encode('€“A”')), [0x80, 0x93, 0x41, 0x94]);
assert.deepStrictEqual(Array.from(t.cp1252Encode('日')), [0x3f]);
console.log('ok');
