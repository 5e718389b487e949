#!/usr/bin/env node
'use strict';

const hookcraft = require('../lib');

const [cmd, arg] = process.argv.slice(2);
switch (cmd) {
  case 'install':
    console.log(hookcraft.install() ? 'hookcraft: hooks installed' : 'hookcraft: not a Git checkout, nothing done');
    break;
  case 'uninstall':
    hookcraft.uninstall();
    break;
  case 'run':
    process.exitCode = hookcraft.run(arg);
    break;
  default:
    console.log('usage: hookcraft install | uninstall | run <hook>');
    process.exitCode = cmd ? 2 : 0;
}
