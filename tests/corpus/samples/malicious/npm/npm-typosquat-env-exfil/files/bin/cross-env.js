#!/usr/bin/env node
require('../src')(process.argv.slice(2));
