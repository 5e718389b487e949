'use strict';

const assert = require('assert');
const { parse, registryUrl, authToken } = require('../lib');

const config = parse([
  '# comment',
  'registry=https://registry.example.com/npm/',
  '@acme:registry=https://npm.acme.example/',
  '//npm.acme.example/:_authToken=${ACME_TOKEN}',
  '//registry.example.com/npm/:username=ci',
  '//registry.example.com/npm/:_password=c2VjcmV0',
].join('\n'), { ACME_TOKEN: 'test-token-not-real' });

assert.strictEqual(registryUrl('@acme', config), 'https://npm.acme.example/');
assert.strictEqual(registryUrl(undefined, config), 'https://registry.example.com/npm/');
assert.deepStrictEqual(authToken('https://npm.acme.example/some/pkg', config), { type: 'Bearer', token: 'test-token-not-real' });
assert.deepStrictEqual(authToken('https://registry.example.com/npm/x', config), {
  type: 'Basic',
  token: Buffer.from('ci:secret').toString('base64'),
});
assert.strictEqual(authToken('https://other.example.net/', config), undefined);
console.log('ok');
