'use strict';

// windows-1252 bytes 0x80..0x9F (the rest is identical to Latin-1).
// Undefined bytes map to U+FFFD, as the WHATWG Encoding standard says.
const CP1252_HIGH = [
  0x20ac, 0xfffd, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
  0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0xfffd, 0x017d, 0xfffd,
  0xfffd, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
  0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0xfffd, 0x017e, 0x0178,
];
const CP1252_REVERSE = new Map(CP1252_HIGH.map((cp, i) => [cp, 0x80 + i]).filter(([cp]) => cp !== 0xfffd));

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

function utf8Encode(str) {
  const out = [];
  for (let i = 0; i < str.length; i++) {
    let c = str.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < str.length) {
      const d = str.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // lone surrogate
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return Uint8Array.from(out);
}

function fromCodePoints(points) {
  let s = '';
  for (let i = 0; i < points.length; i += 4096) {
    s += String.fromCharCode.apply(null, points.slice(i, i + 4096));
  }
  return s;
}

function utf8Decode(bytes) {
  const units = [];
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    let cp = 0xfffd;
    let need = 0;
    if (b < 0x80) { cp = b; }
    else if (b >= 0xc2 && b <= 0xdf) { cp = b & 0x1f; need = 1; }
    else if (b >= 0xe0 && b <= 0xef) { cp = b & 0x0f; need = 2; }
    else if (b >= 0xf0 && b <= 0xf4) { cp = b & 0x07; need = 3; }
    i++;
    let ok = true;
    for (let k = 0; k < need; k++, i++) {
      if (i >= bytes.length || (bytes[i] & 0xc0) !== 0x80) { ok = false; break; }
      cp = (cp << 6) | (bytes[i] & 0x3f);
    }
    if (!ok || (need === 2 && cp < 0x800) || (need === 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      cp = 0xfffd;
    }
    if (cp > 0xffff) {
      cp -= 0x10000;
      units.push(0xd800 | (cp >> 10), 0xdc00 | (cp & 0x3ff));
    } else {
      units.push(cp);
    }
  }
  return fromCodePoints(units);
}

function cp1252Decode(bytes) {
  const units = new Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    units[i] = b >= 0x80 && b < 0xa0 ? CP1252_HIGH[b - 0x80] : b;
  }
  return fromCodePoints(units);
}

function cp1252Encode(str, replacement = 0x3f) {
  const out = new Uint8Array(str.length);
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    out[i] = c < 0x80 || (c >= 0xa0 && c <= 0xff) ? c : CP1252_REVERSE.get(c) ?? replacement;
  }
  return out;
}

function base64Encode(bytes) {
  let s = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    s += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
  }
  if (i < bytes.length) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] || 0) << 8);
    s += B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=') + '=';
  }
  return s;
}

function base64Decode(str) {
  const clean = str.replace(/[\s=]+/g, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let j = 0;
  for (let i = 0; i < clean.length; i++) {
    const c = clean.charCodeAt(i);
    const v = c < 128 ? B64_INDEX[c] : -1;
    if (v < 0) throw new Error(`base64: invalid character at ${i}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, j);
}

const codecs = {
  'utf-8': { encode: utf8Encode, decode: utf8Decode },
  'windows-1252': { encode: cp1252Encode, decode: cp1252Decode },
};

function encode(str, encoding = 'utf-8') {
  const c = codecs[encoding.toLowerCase()];
  if (!c) throw new RangeError(`unsupported encoding ${encoding}`);
  return c.encode(str);
}

function decode(bytes, encoding = 'utf-8') {
  const c = codecs[encoding.toLowerCase()];
  if (!c) throw new RangeError(`unsupported encoding ${encoding}`);
  return c.decode(bytes);
}

module.exports = { encode, decode, utf8Encode, utf8Decode, cp1252Encode, cp1252Decode, base64Encode, base64Decode };
