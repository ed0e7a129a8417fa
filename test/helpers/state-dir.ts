import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';

/**
 * For unit tests of labctl's state files: each test gets an empty LABCTL_STATE_DIR of its own,
 * removed after it. Returns the directory of the running test.
 */
export function scratchStateDir(prefix = 'labctl-state-'): () => string {
  let dir = '';
  let before: string | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    before = process.env.LABCTL_STATE_DIR;
    process.env.LABCTL_STATE_DIR = dir;
  });
  afterEach(async () => {
    // As it was before the test (isolate: false: later files in this worker see the variable).
    if (before === undefined) delete process.env.LABCTL_STATE_DIR;
    else process.env.LABCTL_STATE_DIR = before;
    await rm(dir, { recursive: true, force: true });
  });
  return () => dir;
}
