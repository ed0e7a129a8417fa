import { defineConfig } from 'vitest/config';

/**
 * `npm run test:unit`: the unit tests alone, files in parallel (they touch nothing shared: no
 * Exim, no port 25, no lab), one worker per core. `npm test` keeps vitest.config.ts, where every
 * file (e2e in path order) runs serially.
 */
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    fileParallelism: true,
    testTimeout: 30_000,
    hookTimeout: 600_000,
    reporters: ['default', './test/slowest-files.ts'],
  },
});
