'use strict';

const assert = require('assert');
const { Skycast, SkycastError } = require('../lib/client');

assert.throws(() => new Skycast({ apiKey: '' }), SkycastError);
const client = new Skycast({ apiKey: 'sk_test_not_a_real_key', baseURL: 'https://api.skycast.example.com/v2' });
assert.strictEqual(client.baseURL, 'https://api.skycast.example.com/v2/');
// Offline (or without a real key) requests reject with a SkycastError.
client.maxRetries = 0;
client.timeout = 2000;
client.current(59.33, 18.06).then(
  () => console.log('ok (online)'),
  (err) => { assert.ok(err instanceof SkycastError); console.log('ok'); }
);
