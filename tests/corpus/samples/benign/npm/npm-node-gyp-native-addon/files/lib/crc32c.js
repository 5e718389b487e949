'use strict';

// Pure JavaScript CRC-32C, used when the native addon is not built.
const TABLE = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) {
    c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  TABLE[i] = c >>> 0;
}

function compute(buf, previous) {
  let crc = ~(previous >>> 0);
  for (let i = 0; i < buf.length; i++) {
    crc = TABLE[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8);
  }
  return ~crc >>> 0;
}

module.exports = { compute };
