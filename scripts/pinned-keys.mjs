#!/usr/bin/env node
// Writes src/source/pinned-keys.json, the pinned keys as src/source/signature-fast.ts reads them,
// from src/source/exim-maintainers.asc. After `npm run build`; run again whenever the .asc changes
// (test/unit/source/pinned-keys.test.ts fails until then).
import { readFileSync, writeFileSync } from 'node:fs';
import { buildPinnedTable } from '../dist/source/pinned-keys-build.js';

const asc = new URL('../src/source/exim-maintainers.asc', import.meta.url);
const out = new URL('../src/source/pinned-keys.json', import.meta.url);
const table = await buildPinnedTable(readFileSync(asc, 'utf8'));
writeFileSync(out, `${JSON.stringify(table, null, 1)}\n`);
console.log(`${out.pathname}: ${table.keys.length} keys, ${table.keys.reduce((n, k) => n + k.signers.length, 0)} signing keys`);
