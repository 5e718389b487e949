'use strict';

const LIMITS = { details: 128, state: 128, largeImageText: 128, smallImageText: 128 };

function trim(value, max) {
  if (value === undefined || value === null) return undefined;
  const s = String(value);
  return s.length > max ? s.slice(0, max - 1) + '\u2026' : s;
}

function activity(input) {
  const a = input || {};
  const out = {};
  for (const [k, max] of Object.entries(LIMITS)) {
    const v = trim(a[k], max);
    if (v !== undefined) out[k] = v;
  }
  if (a.startTimestamp) out.timestamps = { start: Math.floor(Number(a.startTimestamp) / 1000) };
  if (Array.isArray(a.buttons)) out.buttons = a.buttons.slice(0, 2).map((b) => ({ label: trim(b.label, 32), url: b.url }));
  return out;
}

function isSnowflake(id) {
  return /^\d{17,20}$/.test(String(id || ''));
}

module.exports = { activity, isSnowflake };
