'use strict';

const path = require('path');

let impl;
let native = false;
try {
  impl = require(path.join(__dirname, 'build', 'Release', 'crc32c.node'));
  native = true;
} catch (_) {
  impl = require('./lib/crc32c');
}

function toBuffer(input) {
  if (Buffer.isBuffer(input)) return input;
  if (typeof input === 'string') return Buffer.from(input, 'utf8');
  if (input instanceof Uint8Array) return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  throw new TypeError('crc32c: expected a Buffer, Uint8Array or string');
}

function crc32c(input, previous = 0) {
  return impl.compute(toBuffer(input), previous >>> 0);
}

module.exports = crc32c;
module.exports.crc32c = crc32c;
module.exports.native = native;
