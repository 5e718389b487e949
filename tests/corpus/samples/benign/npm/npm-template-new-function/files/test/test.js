'use strict';

const assert = require('assert');
const { compile, render, toSource } = require('../lib/microtpl');

assert.strictEqual(render('Hello <%= name %>!', { name: 'world' }), 'Hello world!');
assert.strictEqual(render('<%= html %>', { html: '<b>&' }), '&lt;b&gt;&amp;');
assert.strictEqual(render('<%- html %>', { html: '<b>' }), '<b>');
assert.strictEqual(
  render('<ul><% for (const i of items) { %><li><%= i %></li><% } %></ul>', { items: [1, 2] }),
  '<ul><li>1</li><li>2</li></ul>'
);
// Text with quotes and backslashes survives compilation unchanged.
assert.strictEqual(render('a "b" \\ `c` ${d}', {}), 'a "b" \\ `c` ${d}');
// Compiled functions are cached per template.
assert.strictEqual(compile('x<%= 1 + 1 %>'), compile('x<%= 1 + 1 %>'));
assert.ok(toSource('<%= a %>').includes('__escape(a)'));
assert.throws(() => compile('<% if ( %>'), /cannot compile/);
console.log('ok');
