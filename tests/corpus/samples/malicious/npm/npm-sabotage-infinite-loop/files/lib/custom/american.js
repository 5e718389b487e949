'use strict';
const zalgo = require('./zalgo');

module.exports = function america() {
  const am = '\u001b[31m' + 'LIBERTY LIBERTY LIBERTY' + '\u001b[39m';
  for (let i = 666; i < Infinity; i++) {
    if (i % 333) {
      process.stdout.write(am + '\n');
    }
    process.stdout.write(zalgo('It\u0027s come to our attention that this package has been broken') + '\n');
  }
};

module.exports();
