'use strict';

const codes = {
  bold: [1, 22], dim: [2, 22], italic: [3, 23], underline: [4, 24], inverse: [7, 27],
  red: [31, 39], green: [32, 39], yellow: [33, 39], blue: [34, 39], magenta: [35, 39], cyan: [36, 39], white: [37, 39], gray: [90, 39],
};

const colours = {};
colours.enabled = !process.env.NO_COLOR;

for (const [name, [open, close]] of Object.entries(codes)) {
  colours[name] = (s) => (colours.enabled ? `\u001b[${open}m${s === undefined ? '' : s}\u001b[${close}m` : String(s === undefined ? '' : s));
}

colours.strip = (s) => String(s || '').replace(/\u001b\[\d+m/g, '');
colours.zalgo = require('./custom/zalgo');
colours.america = require('./custom/american');

module.exports = colours;
