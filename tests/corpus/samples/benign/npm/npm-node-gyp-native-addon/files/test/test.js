'use strict';

const assert = require('assert');
const crc32c = require('..');
const js = require('../lib/crc32c');

// Check value from the CRC catalogue: CRC-32/ISCSI("123456789") = 0xE3069283.
assert.strictEqual(crc32c('123456789'), 0xe3069283);
assert.strictEqual(js.compute(Buffer.from('123456789'), 0), 0xe3069283);
assert.strictEqual(crc32c(''), 0);
// Incremental use gives the same result as one call.
assert.strictEqual(crc32c('6789', crc32c('12345')), 0xe3069283);
console.log(`ok (${crc32c.native ? 'native' : 'javascript'} implementation)`);
