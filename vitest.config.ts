import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { DIST_MODULES, testsUseTheBuild } from './test/use-the-build.js';

/**
 * `npm test`: two groups, one after the other. First the end-to-end tests, which change the
 * machine (install Exim, start daemons, build namespaces): every file serially, in path order,
 * test/e2e/01-install... before 02-configure... and so on. Then the unit tests, which touch
 * nothing shared (every other test file), with files in parallel.
 */
class PathOrder extends BaseSequencer {
  async sort(files: TestSpecification[]) {
    return [...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId));
  }
}

export default defineConfig({
  // The tests' imports of src/ load the build in dist/, with node's own loader (test/use-the-build.ts).
  plugins: [testsUseTheBuild()],
  // The lints' TypeScript compiler, required rather than imported (test/helpers/typescript-cjs.ts).
  resolve: { alias: { typescript: fileURLToPath(new URL('./test/helpers/typescript-cjs.ts', import.meta.url)) } },
  test: {
    // The sequencer is the run's, not a project's (vitest ignores one set in a project): path
    // order for the e2e files, and for the unit files, which run in parallel anyway.
    sequence: { sequencer: PathOrder },
    // dist/ loads as node loads it: the modules the tests import (test/use-the-build.ts) and the
    // CLI whose main() test/helpers/cli.ts runs in the test process.
    server: { deps: { external: [DIST_MODULES] } },
    testTimeout: 30_000,
    hookTimeout: 600_000,
    // Exim's repeated builds of the same source and settings (01-install) go through ccache
    // (src/system/ccache.ts; Debian's ccache from scripts/apt-packages-tests.txt).
    env: { LABCTL_CCACHE: '1' },
    projects: [
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, 'test/e2e/**'], sequence: { groupOrder: 1 } } },
    ],
    // The default reporter, then the slowest files (test/slowest-files.ts).
    reporters: ['default', './test/slowest-files.ts'],
    // The run leaves no labctl-* scratch directory in the temp directory (test/helpers/tmp-guard.ts).
    globalSetup: ['./test/helpers/tmp-guard.ts'],
  },
});
