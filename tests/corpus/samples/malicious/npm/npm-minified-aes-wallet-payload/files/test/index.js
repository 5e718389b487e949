'use strict';
const assert = require('assert');
const { Readable } = require('stream');
const flatMap = require('..');

Readable.from(['a b', 'c'])
  .pipe(flatMap((s) => s.split(' ')))
  .pipe(flatMap.collect((err, out) => {
    assert.ifError(err);
    assert.deepStrictEqual(out, ['a', 'b', 'c']);
    console.log('ok');
  }));
