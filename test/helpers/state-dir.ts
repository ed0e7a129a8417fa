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
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    process.env.LABCTL_STATE_DIR = dir;
  });
  afterEach(async () => {
    delete process.env.LABCTL_STATE_DIR;
    await rm(dir, { recursive: true, force: true });
  });
  return () => dir;
}
