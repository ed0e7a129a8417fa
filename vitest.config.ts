import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * End-to-end tests change the machine (install Exim, start daemons, build namespaces), so every
 * file runs serially, in path order: test/e2e/01-install... before 02-configure... and so on.
 */
class PathOrder extends BaseSequencer {
  async sort(files: TestSpecification[]) {
    return [...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    sequence: { sequencer: PathOrder },
    testTimeout: 30_000,
    hookTimeout: 600_000,
    // Exim's repeated builds of the same source and settings (01-install) go through ccache
    // (src/system/ccache.ts; Debian's ccache from scripts/apt-packages-tests.txt).
    env: { LABCTL_CCACHE: '1' },
  },
});
