'use strict';

const fs = require('fs');
const path = require('path');

const PAGE = 65536;
let instance = null;

function load() {
  if (instance) return instance;
  const bytes = fs.readFileSync(path.join(__dirname, 'fnv1a.wasm'));
  // No imports: the module can only compute over its own memory.
  instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  return instance;
}

function toBytes(input) {
  if (typeof input === 'string') return Buffer.from(input, 'utf8');
  if (input instanceof Uint8Array) return input;
  throw new TypeError('fnv1a: expected a string or Uint8Array');
}

function fnv1aJs(bytes) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i];
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function fnv1a(input) {
  const bytes = toBytes(input);
  let wasm;
  try {
    wasm = load().exports;
  } catch (_) {
    return fnv1aJs(bytes);
  }
  const memory = wasm.memory;
  if (bytes.length > memory.buffer.byteLength) {
    memory.grow(Math.ceil((bytes.length - memory.buffer.byteLength) / PAGE));
  }
  new Uint8Array(memory.buffer, 0, bytes.length).set(bytes);
  return wasm.fnv1a(0, bytes.length) >>> 0;
}

module.exports = { fnv1a, fnv1aJs };
