'use strict';

// `prepare` hook: only does something in a development checkout of this
// repository. Installed from the registry there is no .git directory.
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
if (fs.existsSync(path.join(root, '.git'))) {
  try {
    require('../lib').install(root);
  } catch (err) {
    console.warn(`hookcraft: could not install hooks (${err.message})`);
  }
}
