'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

// The public registry's address comes from npm's own configuration in
// real use; this default is a placeholder.
const DEFAULT_REGISTRY = 'https://registry.invalid/';

// npm's own rule: ${NAME} is replaced by the environment variable, \${ is literal.
function expand(value, env) {
  return value.replace(/(\\*)\$\{([^}]+)\}/g, (match, escapes, name) => {
    if (escapes.length % 2) return match.slice((escapes.length + 1) / 2);
    const v = env[name];
    if (v === undefined) throw new Error(`npmrc: environment variable ${name} is not set`);
    return escapes.slice(escapes.length / 2) + v;
  });
}

function parse(text, env = process.env) {
  const out = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = expand(line.slice(0, eq).trim(), env);
    let value = line.slice(eq + 1).trim();
    if (/^".*"$/.test(value)) value = JSON.parse(value);
    try {
      out[key] = expand(value, env);
    } catch (_) {
      out[key] = value; // npm warns and keeps the raw value
    }
  }
  return out;
}

function readIfExists(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (_) {
    return null;
  }
}

function projectNpmrc(cwd) {
  let dir = path.resolve(cwd);
  for (;;) {
    const file = path.join(dir, '.npmrc');
    if (fs.existsSync(file)) return file;
    if (fs.existsSync(path.join(dir, 'package.json'))) return null;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

// The merged config: project over user over global, like npm.
function load({ cwd = process.cwd(), env = process.env } = {}) {
  const prefix = env.PREFIX || env.npm_config_prefix || path.dirname(path.dirname(process.execPath));
  const files = [
    env.NPM_CONFIG_GLOBALCONFIG || path.join(prefix, 'etc', 'npmrc'),
    env.NPM_CONFIG_USERCONFIG || env.npm_config_userconfig || path.join(os.homedir(), '.npmrc'),
    projectNpmrc(cwd),
  ].filter(Boolean);
  const config = {};
  for (const file of files) {
    const text = readIfExists(file);
    if (text !== null) Object.assign(config, parse(text, env));
  }
  return config;
}

function registryUrl(scope, config = load()) {
  const url = (scope && config[`${scope.startsWith('@') ? scope : '@' + scope}:registry`]) ||
    config.registry || DEFAULT_REGISTRY;
  return url.endsWith('/') ? url : `${url}/`;
}

// The credentials npm would send to `url`: the longest matching
// `//host/path/:_authToken` (or basic auth) entry.
function authToken(url, config = load()) {
  const parsed = new URL(url);
  let pathname = parsed.pathname.endsWith('/') ? parsed.pathname : `${parsed.pathname}/`;
  for (;;) {
    const key = `//${parsed.host}${pathname}`;
    if (config[`${key}:_authToken`]) return { type: 'Bearer', token: config[`${key}:_authToken`] };
    if (config[`${key}:_auth`]) return { type: 'Basic', token: config[`${key}:_auth`] };
    if (config[`${key}:username`] && config[`${key}:_password`]) {
      const password = Buffer.from(config[`${key}:_password`], 'base64').toString('utf8');
      return { type: 'Basic', token: Buffer.from(`${config[`${key}:username`]}:${password}`).toString('base64') };
    }
    if (pathname === '/') return undefined;
    pathname = pathname.replace(/[^/]*\/$/, '');
  }
}

module.exports = { load, parse, registryUrl, authToken, DEFAULT_REGISTRY };
