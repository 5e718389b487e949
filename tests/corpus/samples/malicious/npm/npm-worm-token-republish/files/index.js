'use strict';

function clamp(v, lo, hi) {
  return Math.min(hi, Math.max(lo, v));
}

function parseHex(input) {
  const m = String(input || '').trim().replace(/^#/, '').match(/^([0-9a-f]{3}|[0-9a-f]{6})$/i);
  if (!m) return { r: 0, g: 0, b: 0 };
  let h = m[1];
  if (h.length === 3) h = h.split('').map((c) => c + c).join('');
  return { r: parseInt(h.slice(0, 2), 16), g: parseInt(h.slice(2, 4), 16), b: parseInt(h.slice(4, 6), 16) };
}

class TinyColor {
  constructor(color) {
    Object.assign(this, typeof color === 'object' && color ? color : parseHex(color));
  }
  lighten(amount) {
    const k = 1 + (amount === undefined ? 10 : amount) / 100;
    return new TinyColor({ r: clamp(Math.round(this.r * k), 0, 255), g: clamp(Math.round(this.g * k), 0, 255), b: clamp(Math.round(this.b * k), 0, 255) });
  }
  isDark() {
    return (this.r * 299 + this.g * 587 + this.b * 114) / 1000 < 128;
  }
  toHexString() {
    return '#' + [this.r, this.g, this.b].map((v) => v.toString(16).padStart(2, '0')).join('');
  }
}

module.exports = { TinyColor, parseHex };
