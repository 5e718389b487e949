#!/usr/bin/env node
'use strict';

const { create } = require('../lib/scaffold');
const telemetry = require('../lib/telemetry');
const { version } = require('../package.json');

async function main(argv) {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'new': {
      if (!rest[0]) throw new Error('usage: scaffoldkit new <name> [--template basic]');
      const i = rest.indexOf('--template');
      const dest = create(rest[0], { template: i >= 0 ? rest[i + 1] : 'basic' });
      console.log(`created ${dest}`);
      await telemetry.record('new', version);
      break;
    }
    case 'telemetry':
      if (rest[0] === 'disable' || rest[0] === 'enable') {
        telemetry.setEnabled(rest[0] === 'enable');
      }
      console.log(`telemetry is ${telemetry.enabled() ? 'enabled' : 'disabled'}`);
      break;
    case '--version':
      console.log(version);
      break;
    default:
      console.log('usage: scaffoldkit new <name> | telemetry [enable|disable] | --version');
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(`scaffoldkit: ${err.message}`);
  process.exitCode = 1;
});
