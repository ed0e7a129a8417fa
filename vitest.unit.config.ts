import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { DIST_MODULES, testsUseTheBuild } from './test/use-the-build.js';

/**
 * `npm run test:unit`: the unit tests alone, files in parallel (they touch nothing shared: no
 * Exim, no port 25, no lab). `npm test` keeps vitest.config.ts, where every file (e2e in path
 * order) runs serially.
 */
export default defineConfig({
  // The tests' imports of src/ load the build in dist/, with node's own loader (test/use-the-build.ts).
  plugins: [testsUseTheBuild()],
  // The lints' TypeScript compiler, required rather than imported (test/helpers/typescript-cjs.ts).
  resolve: { alias: { typescript: fileURLToPath(new URL('./test/helpers/typescript-cjs.ts', import.meta.url)) } },
  test: {
    include: ['test/unit/**/*.test.ts'],
    fileParallelism: true,
    // vitest's own default is one worker fewer than the cores: on a 2-core machine, one file at a
    // time. Two workers, and files share a worker's module cache instead of importing src/ afresh
    // each (isolate: false): the suite's CPU time fell from 94 s to 60 s, and CPU is what it waits
    // for here. Unit files set what they need in beforeAll and undo it in afterAll.
    maxWorkers: 2,
    minWorkers: 1,
    isolate: false,
    // dist/ loads as node loads it: the modules the tests import (test/use-the-build.ts) and the
    // CLI whose main() test/helpers/cli.ts runs in the test process.
    server: { deps: { external: [DIST_MODULES] } },
    testTimeout: 30_000,
    hookTimeout: 600_000,
    reporters: ['default', './test/slowest-files.ts'],
    // The run leaves no labctl-* scratch directory in the temp directory (test/helpers/tmp-guard.ts).
    globalSetup: ['./test/helpers/tmp-guard.ts'],
  },
});
