#!/usr/bin/env node
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const entry = join(__dirname, '..', 'dist', 'cli', 'keyward.js');
if (!existsSync(entry)) {
  process.stderr.write('keyward is not built yet: run `npm ci` (or `npm run build`) in the checkout first.\n');
  process.exit(1);
}
require(entry)
  .main(process.argv.slice(2))
  .then(
    (code) => {
      if (typeof code === 'number') process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`keyward: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
