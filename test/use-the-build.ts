/**
 * The tests import the modules they test as `../../src/x.js`; this vite plugin hands them
 * dist/x.js instead, the build `npm test` and `npm run test:unit` make first, and the configs
 * load dist/ with node's own loader (server.deps.external). The tests then run the code as
 * labctl runs, and each test worker loads it at node's speed instead of through vite's
 * transform and the worker's channel to it (the unit suite's CPU time fell from N s to M s).
 * A dist/ older than its source is refused at the start, naming the build command.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(root, 'src') + path.sep;
const DIST = path.join(root, 'dist') + path.sep;
const LAST_WRITTEN = path.join(DIST, 'source/release-check.js');

/**
 * The source files changed since the last build: newer than dist/source/release-check.js, the
 * file every `npm run build` writes last (scripts/bundle.mjs, after tsc), as scripts/setup.sh
 * judges it. All of them when there is no build.
 */
export function changedSinceBuild(dir = SRC, built = statSync(LAST_WRITTEN, { throwIfNoEntry: false })?.mtimeMs ?? -1): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return changedSinceBuild(p + path.sep, built);
    return statSync(p).mtimeMs > built ? [path.relative(root, p)] : [];
  });
}

export function testsUseTheBuild(): Plugin {
  return {
    name: 'labctl-tests-use-the-build',
    enforce: 'pre',
    buildStart() {
      const changed = changedSinceBuild();
      if (changed.length) throw new Error(`dist/ is older than ${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ` and ${changed.length - 3} more` : ''}: run npm run build (npm test and npm run test:unit build first)`);
    },
    resolveId(source, importer) {
      if (!importer || !source.startsWith('.')) return null;
      const [file, query] = source.split('?', 2) as [string, string | undefined];
      const target = path.resolve(path.dirname(importer), file);
      if (!target.startsWith(SRC) || !target.endsWith('.js')) return null;
      // A query stays: a test that needs a fresh copy of a module (its own module state) imports it as x.js?copy=N.
      return DIST + target.slice(SRC.length) + (query === undefined ? '' : `?${query}`);
    },
  };
}
