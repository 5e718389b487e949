'use strict';
const backend = require('./lib/backend');
require('./lib/watch');

module.exports = {
  read: () => backend.read(),
  write: (text) => backend.write(text === undefined ? '' : String(text)),
  clear: () => backend.write(''),
};
