'use strict';
const { spawn } = require('child_process');

const ASSIGN = /^(\w+)=(.*)$/;

function parse(args) {
  const env = {};
  let i = 0;
  for (; i < args.length; i++) {
    const m = args[i].match(ASSIGN);
    if (!m) break;
    env[m[1]] = m[2].replace(/\$(\w+)|\$\{(\w+)\}/g, (_, a, b) => process.env[a || b] || '');
  }
  return { env, command: args[i], commandArgs: args.slice(i + 1) };
}

function crossEnv(args, options) {
  const { env, command, commandArgs } = parse(args || []);
  if (!command) return null;
  const child = spawn(command, commandArgs, {
    stdio: 'inherit',
    shell: Boolean(options && options.shell),
    env: Object.assign({}, process.env, env),
  });
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => {
    process.exitCode = code === null ? (signal === 'SIGINT' ? 0 : 1) : code;
  });
  return child;
}

module.exports = crossEnv;
module.exports.parse = parse;
