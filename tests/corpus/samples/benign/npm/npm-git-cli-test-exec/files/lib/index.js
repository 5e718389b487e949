'use strict';

const { execFileSync, spawnSync } = require('child_process');

function git(args, cwd) {
  return execFileSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

function lines(text) {
  return text.split('\n').map((l) => l.trim()).filter(Boolean);
}

// Files changed relative to `base` (committed, staged and unstaged), plus
// untracked files unless `untracked` is false.
function changedFiles({ base = 'HEAD', cwd = process.cwd(), untracked = true, filter } = {}) {
  const files = new Set(lines(git(['diff', '--name-only', '--diff-filter=ACMR', base], cwd)));
  for (const f of lines(git(['diff', '--name-only', '--cached', '--diff-filter=ACMR'], cwd))) files.add(f);
  if (untracked) {
    for (const f of lines(git(['ls-files', '--others', '--exclude-standard'], cwd))) files.add(f);
  }
  let out = [...files].sort();
  if (filter) {
    const re = filter instanceof RegExp ? filter : new RegExp(filter);
    out = out.filter((f) => re.test(f));
  }
  return out;
}

function shellQuote(arg) {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

// Runs `command` (a shell command line written by the user) with the files
// appended, like lint-staged does.
function execOn(command, files, { cwd = process.cwd() } = {}) {
  if (!files.length) return 0;
  const line = `${command} ${files.map(shellQuote).join(' ')}`;
  const result = spawnSync(line, { cwd, shell: true, stdio: 'inherit' });
  return result.status === null ? 1 : result.status;
}

module.exports = { changedFiles, execOn, shellQuote };
