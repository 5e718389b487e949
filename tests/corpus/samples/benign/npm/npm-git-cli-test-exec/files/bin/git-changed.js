#!/usr/bin/env node
'use strict';

const { changedFiles, execOn } = require('../lib');

function parseArgs(argv) {
  const opts = { base: 'HEAD', untracked: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--base') opts.base = argv[++i];
    else if (a === '--filter') opts.filter = argv[++i];
    else if (a === '--exec') opts.exec = argv[++i];
    else if (a === '--no-untracked') opts.untracked = false;
    else if (a === '-h' || a === '--help') opts.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

try {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) {
    console.log('usage: git-changed [--base REF] [--filter REGEX] [--no-untracked] [--exec "CMD"]');
  } else {
    const files = changedFiles(opts);
    if (opts.exec) process.exitCode = execOn(opts.exec, files);
    else if (files.length) console.log(files.join('\n'));
  }
} catch (err) {
  console.error(`git-changed: ${err.message.trim()}`);
  process.exitCode = 2;
}
