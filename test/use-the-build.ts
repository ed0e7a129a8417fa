/**
 * The tests import the modules they test as `../../src/x.js`; this vite plugin hands them
 * dist/x.js instead, the build `npm test` and `npm run test:unit` make first, and the configs
 * load dist/ with node's own loader (server.deps.external). The tests then run the code as
 * labctl runs, and each test worker loads it at node's speed instead of through vite's
 * transform and the worker's channel to it (docs/testing.md#unit-tests). A dist/ older than its
 * sources is refused at the start, naming the build command; a module whose source is gone is
 * not handed over from an old build (tsc -b never deletes what it built).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(root, 'src') + path.sep;
const DIST = path.join(root, 'dist') + path.sep;
const LAST_WRITTEN = path.join(DIST, 'source/release-check.js');

/** The modules of this repository's dist/, for the configs' server.deps.external (loaded by node itself). */
export const DIST_MODULES = new RegExp(DIST.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

/** What a build is made from, as scripts/setup.sh reads it: a newer one means dist/ is stale. */
const INPUTS = ['src', 'tsconfig.json', 'package.json', 'package-lock.json', 'scripts/bundle.mjs'];

function files(p: string): string[] {
  const st = statSync(p, { throwIfNoEntry: false });
  if (!st) return [];
  return st.isDirectory() ? readdirSync(p).flatMap((name) => files(path.join(p, name))) : [p];
}

/**
 * Why dist/ cannot be used, or undefined: no build; build inputs newer than
 * dist/source/release-check.js, the file every `npm run build` writes last (scripts/bundle.mjs,
 * after tsc); an input dated in the future, which no build can be newer than.
 */
function staleBuild(): string | undefined {
  const now = Date.now();
  const built = statSync(LAST_WRITTEN, { throwIfNoEntry: false })?.mtimeMs;
  if (built === undefined) return 'there is no build in dist/: run npm run build';
  const inputs = INPUTS.flatMap((i) => files(path.join(root, i))).map((f) => ({ f: path.relative(root, f), t: statSync(f).mtimeMs }));
  const future = inputs.filter((i) => i.t > now + 1000).map((i) => i.f);
  if (future.length) return `${list(future)} ${future.length === 1 ? 'has' : 'have'} a modification time in the future: touch ${future.length === 1 ? 'it' : 'them'}, then npm run build`;
  const newer = inputs.filter((i) => i.t > built).map((i) => i.f);
  if (newer.length) return `dist/ is older than ${list(newer)}: run npm run build (npm test and npm run test:unit build first)`;
  return undefined;
}

const list = (names: string[]) => `${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''}`;

export function testsUseTheBuild(): Plugin {
  return {
    name: 'labctl-tests-use-the-build',
    enforce: 'pre',
    buildStart() {
      const why = staleBuild();
      if (why) throw new Error(why);
    },
    resolveId(source, importer) {
      if (!importer || !source.startsWith('.')) return null;
      const [file, query] = source.split('?', 2) as [string, string | undefined];
      const target = path.resolve(path.dirname(importer), file);
      // Only a module that has its source: a build's leftover of a deleted one is not handed over.
      if (!target.startsWith(SRC) || !target.endsWith('.js') || !existsSync(target.replace(/\.js$/, '.ts'))) return null;
      // A query stays: a test that needs a fresh copy of a module (its own module state) imports it as x.js?copy=N.
      return DIST + target.slice(SRC.length) + (query === undefined ? '' : `?${query}`);
    },
  };
}
