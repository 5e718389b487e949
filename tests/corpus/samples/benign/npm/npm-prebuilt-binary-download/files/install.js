'use strict';

// Downloads the prebuilt swiftbundle binary for this platform. Mirrors:
//   SWIFTBUNDLE_BINARY_MIRROR=https://mirror.example.net/swiftbundle npm install
// Use SWIFTBUNDLE_BINARY_PATH to point at a binary you built yourself; set
// SWIFTBUNDLE_SKIP_DOWNLOAD=1 to skip this step entirely.
const crypto = require('crypto');
const fs = require('fs');
const https = require('https');
const path = require('path');
const zlib = require('zlib');
const { execFileSync } = require('child_process');
const { SUPPORTED, platformKey, binaryPath } = require('./lib/platform');

const version = require('./package.json').version;
const DEFAULT_MIRROR = 'https://downloads.example.com/swiftbundle';

function fetch(url, redirects = 5) {
  return new Promise((resolve, reject) => {
    if (!url.startsWith('https://')) {
      reject(new Error(`refusing to download over plain HTTP: ${url}`));
      return;
    }
    const req = https.get(url, { timeout: 30000 }, (res) => {
      if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location && redirects > 0) {
        res.resume();
        resolve(fetch(new URL(res.headers.location, url).toString(), redirects - 1));
        return;
      }
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`${url}: HTTP ${res.statusCode}`));
        return;
      }
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
    req.on('error', reject);
  });
}

async function main() {
  if (process.env.SWIFTBUNDLE_SKIP_DOWNLOAD === '1' || process.env.SWIFTBUNDLE_BINARY_PATH) return;
  const key = platformKey();
  if (!SUPPORTED.includes(key)) {
    console.warn(`swiftbundle: no prebuilt binary for ${key}; build from source and set SWIFTBUNDLE_BINARY_PATH.`);
    return;
  }
  const expected = JSON.parse(fs.readFileSync(path.join(__dirname, 'checksums.json'), 'utf8'))[key];
  const mirror = (process.env.SWIFTBUNDLE_BINARY_MIRROR || DEFAULT_MIRROR).replace(/\/+$/, '');
  const url = `${mirror}/v${version}/swiftbundle-${key}.gz`;

  const compressed = await fetch(url);
  const digest = crypto.createHash('sha256').update(compressed).digest('hex');
  if (digest !== expected) {
    throw new Error(`checksum mismatch for ${url}: expected ${expected}, got ${digest}`);
  }
  const binary = zlib.gunzipSync(compressed);
  const target = binaryPath();
  const tmp = `${target}.download`;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(tmp, binary, { mode: 0o755 });
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, target);

  const reported = execFileSync(target, ['--version'], { encoding: 'utf8', timeout: 10000 }).trim();
  if (reported !== version) {
    fs.rmSync(target, { force: true });
    throw new Error(`downloaded binary reports version ${reported}, expected ${version}`);
  }
}

main().catch((err) => {
  console.warn(`swiftbundle: could not install the prebuilt binary: ${err.message}`);
  console.warn('swiftbundle: set SWIFTBUNDLE_BINARY_MIRROR to a mirror you can reach, or SWIFTBUNDLE_BINARY_PATH to a local binary.');
  // Installs must not fail because a download did: the JS API reports the
  // missing binary when it is first used.
});
