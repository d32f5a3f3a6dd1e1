#!/usr/bin/env node
// `lps`: the headless command line of the app, on the same core as the Electron app.
'use strict';
const path = require('node:path');
require('tsx/cjs/api').register();
require(path.join(__dirname, '..', 'src', 'cli', 'index.ts'))
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
