#!/usr/bin/env node
// Rewrites the options tables of docs/options.md from the option table (lib/options/defaults.ts), through the built dist/; `npm run docs:options`.
'use strict';

const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { renderOptionTables } = require('../dist/options/docs');

const path = join(__dirname, '..', 'docs', 'options.md');
const before = readFileSync(path, 'utf8');
const after = renderOptionTables(before);
if (after !== before) writeFileSync(path, after);
console.log(after === before ? 'docs/options.md: options tables are up to date' : 'docs/options.md: options tables rewritten');
