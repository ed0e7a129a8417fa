import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LabError } from '../errors.js';
import { run } from './run.js';

/**
 * A unified diff of two texts, made by diff(1) so the output is the familiar one.
 * Returns '' when they are equal.
 */
export async function unifiedDiff(before: string, after: string, labels: { before: string; after: string }): Promise<string> {
  if (before === after) return '';
  const dir = await mkdtemp(path.join(tmpdir(), 'labctl-diff-'));
  try {
    const file = path.join(dir, 'before');
    await writeFile(file, before);
    const r = await run('diff', ['-u', '--label', labels.before, '--label', labels.after, file, '-'], { input: after, allowFailure: true });
    if (r.exitCode !== 0 && r.exitCode !== 1) throw new LabError(`diff failed: ${r.stderr.trim()}`, 'is diffutils installed?');
    return r.stdout.endsWith('\n') ? r.stdout : `${r.stdout}\n`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
