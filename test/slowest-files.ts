/**
 * A vitest reporter that prints the slowest test files after a run (import, set-up and tests
 * together), so the next engineer sees where the suite's time goes. Used by vitest.config.ts and
 * vitest.unit.config.ts beside the default reporter.
 */
import type { Reporter, TestModule } from 'vitest/node';
import path from 'node:path';

const SHOWN = 10;

export default class SlowestFiles implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const rows = modules
      .map((m) => {
        const d = m.diagnostic();
        return { file: path.relative(process.cwd(), m.moduleId), ms: d.prepareDuration + d.collectDuration + d.setupDuration + d.duration };
      })
      .sort((a, b) => b.ms - a.ms)
      .slice(0, SHOWN);
    if (!rows.length) return;
    const lines = rows.map((r) => `  ${(r.ms / 1000).toFixed(1).padStart(7)} s  ${r.file}`);
    process.stdout.write(`\nslowest test files (import + set-up + tests):\n${lines.join('\n')}\n`);
  }
}
