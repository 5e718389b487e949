'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const HOOKS = ['pre-commit', 'commit-msg', 'pre-push'];
const DIR = '.hooks';

function git(args, cwd) {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

function hookScript(name) {
  return [
    '#!/bin/sh',
    '# Written by hookcraft. Commands come from package.json "hookcraft".',
    '[ "$HOOKCRAFT" = "0" ] && exit 0',
    `exec npx --no-install hookcraft run ${name} "$@"`,
    '',
  ].join('\n');
}

// Installs the hooks into the Git checkout containing `cwd`. Returns false
// (and changes nothing) when there is no checkout or hooks are disabled.
function install(cwd = process.cwd()) {
  if (process.env.HOOKCRAFT === '0' || process.env.CI) return false;
  let top;
  try {
    top = git(['rev-parse', '--show-toplevel'], cwd);
  } catch (_) {
    return false; // not a Git checkout, or git is not installed
  }
  const dir = path.join(top, DIR);
  fs.mkdirSync(dir, { recursive: true });
  for (const name of HOOKS) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, hookScript(name));
    fs.chmodSync(file, 0o755);
  }
  git(['config', 'core.hooksPath', DIR], top);
  return true;
}

function uninstall(cwd = process.cwd()) {
  const top = git(['rev-parse', '--show-toplevel'], cwd);
  git(['config', '--unset', 'core.hooksPath'], top);
  fs.rmSync(path.join(top, DIR), { recursive: true, force: true });
}

// Runs the command configured for `name` in the project's package.json.
function run(name, cwd = process.cwd()) {
  const manifest = JSON.parse(fs.readFileSync(path.join(cwd, 'package.json'), 'utf8'));
  const command = (manifest.hookcraft || {})[name];
  if (!command) return 0;
  try {
    execFileSync(process.platform === 'win32' ? 'cmd.exe' : '/bin/sh',
      process.platform === 'win32' ? ['/d', '/s', '/c', command] : ['-c', command],
      { cwd, stdio: 'inherit' });
    return 0;
  } catch (err) {
    return typeof err.status === 'number' ? err.status : 1;
  }
}

module.exports = { install, uninstall, run, HOOKS };
