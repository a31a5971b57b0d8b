#!/usr/bin/env node
// Rewrites the README's options tables from the option table (lib/options/defaults.ts), through the built dist/; `npm run docs:options`.
'use strict';

const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { renderReadmeOptions } = require('../dist/options/docs');

const path = join(__dirname, '..', 'README.md');
const before = readFileSync(path, 'utf8');
const after = renderReadmeOptions(before);
if (after !== before) writeFileSync(path, after);
console.log(after === before ? 'README options tables are up to date' : 'README options tables rewritten');
