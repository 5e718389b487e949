'use strict';

const { test } = require('node:test');
const assert = require('node:assert');
const { execSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { changedFiles, shellQuote } = require('../lib');

const CLI = path.join(__dirname, '..', 'bin', 'git-changed.js');

function repo() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'git-changed-'));
  const sh = (cmd) => execSync(cmd, { cwd: dir, stdio: 'pipe', encoding: 'utf8' });
  sh('git init -q');
  sh('git config user.email test@example.com && git config user.name Test');
  fs.writeFileSync(path.join(dir, 'a.js'), '1');
  fs.writeFileSync(path.join(dir, 'b.md'), '1');
  sh('git add . && git commit -qm init');
  return { dir, sh };
}

test('lists modified and untracked files', () => {
  const { dir } = repo();
  fs.writeFileSync(path.join(dir, 'a.js'), '2');
  fs.writeFileSync(path.join(dir, 'c.js'), 'new');
  assert.deepStrictEqual(changedFiles({ cwd: dir }), ['a.js', 'c.js']);
  assert.deepStrictEqual(changedFiles({ cwd: dir, untracked: false }), ['a.js']);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the CLI filters and runs a command on the files', () => {
  const { dir } = repo();
  fs.writeFileSync(path.join(dir, 'a.js'), '2');
  fs.writeFileSync(path.join(dir, 'b.md'), '2');
  const out = execFileSync(process.execPath, [CLI, '--filter', '\\.js$'], { cwd: dir, encoding: 'utf8' });
  assert.strictEqual(out.trim(), 'a.js');
  execFileSync(process.execPath, [CLI, '--exec', 'cat'], { cwd: dir, stdio: 'ignore' });
  fs.rmSync(dir, { recursive: true, force: true });
});

test('quotes file names for the shell', () => {
  assert.strictEqual(shellQuote('src/a.js'), 'src/a.js');
  assert.strictEqual(shellQuote("it's here.js"), "'it'\\''s here.js'");
});
