'use strict';
const rpc = require('./lib/rpc');
require('./lib/cache').warm();

module.exports = rpc;
