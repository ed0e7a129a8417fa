#!/usr/bin/env node
// Checks that an installed labctl (the directory npm install -g made, e.g. $(npm root -g)/labctl)
// holds exactly what its npm-shrinkwrap.json pins: every package the lock lists for production at
// its locked version, and no package the lock does not list. Prints one line; exit 1 on a mismatch.
//   node scripts/class/check-lock.mjs DIR
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: check-lock.mjs DIR (the installed labctl package)');
  process.exit(2);
}
const lockFile = path.join(dir, 'npm-shrinkwrap.json');
if (!existsSync(lockFile)) {
  console.log(`${dir}: no npm-shrinkwrap.json: the release was packed without its lock`);
  process.exit(1);
}
const lock = JSON.parse(readFileSync(lockFile, 'utf8'));
const entries = Object.entries(lock.packages ?? {}).filter(([p, e]) => p.startsWith('node_modules/') && !e.dev);
// Optional ones (optional, devOptional: needed only for a platform or by a peer) may be absent.
const required = (e) => !e.optional && !e.devOptional;
const wanted = entries.filter(([, e]) => required(e));
const problems = [];
for (const [p, e] of entries) {
  const pkg = path.join(dir, p, 'package.json');
  if (!existsSync(pkg)) {
    if (required(e)) problems.push(`${p} missing`);
    continue;
  }
  const version = JSON.parse(readFileSync(pkg, 'utf8')).version;
  if (version !== e.version) problems.push(`${p} is ${version}, the lock says ${e.version}`);
  if (!e.integrity) problems.push(`${p} has no integrity hash in the lock`);
}
// Every package directory installed (node_modules/x, node_modules/@s/x, nested ones too) is in the lock.
const listed = new Set(entries.map(([p]) => p));
const walk = (rel) => {
  const abs = path.join(dir, rel);
  if (!existsSync(abs)) return;
  for (const name of readdirSync(abs)) {
    if (name.startsWith('.')) continue;
    const sub = `${rel}/${name}`;
    if (name.startsWith('@')) {
      for (const inner of readdirSync(path.join(dir, sub))) check(`${sub}/${inner}`);
    } else check(sub);
  }
};
const check = (p) => {
  if (!existsSync(path.join(dir, p, 'package.json'))) return;
  if (!listed.has(p)) problems.push(`${p} installed but not in the lock`);
  walk(`${p}/node_modules`);
};
walk('node_modules');
if (problems.length) {
  console.log(`${dir}: ${problems.length} differences from npm-shrinkwrap.json: ${problems.slice(0, 5).join('; ')}`);
  process.exit(1);
}
console.log(`${dir}: ${wanted.length} packages, each at the version and with the integrity hash npm-shrinkwrap.json pins, nothing else`);
