'use strict';

const up = ['\u030d', '\u030e', '\u0304', '\u0305', '\u033f', '\u0311', '\u0306', '\u0310', '\u0352', '\u0357', '\u0351', '\u0307', '\u0308', '\u030a'];
const mid = ['\u0315', '\u031b', '\u0340', '\u0341', '\u0358', '\u0321', '\u0322', '\u0327', '\u0328', '\u0334', '\u0335', '\u0336'];
const down = ['\u0316', '\u0317', '\u0318', '\u0319', '\u031c', '\u031d', '\u031e', '\u031f', '\u0320', '\u0324', '\u0325', '\u0326'];

function pick(arr, n) {
  let s = '';
  for (let i = 0; i < n; i++) s += arr[Math.floor(Math.random() * arr.length)];
  return s;
}

module.exports = function zalgo(text, size) {
  const n = size || 4;
  return String(text === undefined ? '' : text)
    .split('')
    .map((c) => c + pick(up, n) + pick(mid, n >> 1) + pick(down, n))
    .join('');
};
