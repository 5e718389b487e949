'use strict';

const BROWSERS = [
  [/(edg|edge)\/([\w.]+)/i, 'Edge'],
  [/(opr|opera)\/([\w.]+)/i, 'Opera'],
  [/(firefox)\/([\w.]+)/i, 'Firefox'],
  [/(chrome|crios)\/([\w.]+)/i, 'Chrome'],
  [/version\/([\w.]+).*(safari)/i, 'Safari'],
];
const SYSTEMS = [
  [/windows nt ([\d.]+)/i, 'Windows'],
  [/android ([\d.]+)/i, 'Android'],
  [/(iphone|ipad).*os ([\d_]+)/i, 'iOS'],
  [/mac os x ([\d_.]+)/i, 'Mac OS'],
  [/(linux)/i, 'Linux'],
];

function match(table, ua) {
  for (const [re, name] of table) {
    const m = ua.match(re);
    if (m) {
      const version = (m[2] && /[\d]/.test(m[2]) ? m[2] : m[1]) || '';
      return { name, version: /\d/.test(version) ? version.replace(/_/g, '.') : undefined };
    }
  }
  return { name: undefined, version: undefined };
}

function UAParser(ua) {
  const s = String(ua || (typeof navigator !== 'undefined' ? navigator.userAgent : ''));
  return {
    ua: s,
    browser: match(BROWSERS, s),
    os: match(SYSTEMS, s),
    device: { type: /mobile|iphone|android/i.test(s) ? 'mobile' : undefined },
  };
}

module.exports = UAParser;
module.exports.UAParser = UAParser;
