import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

/**
 * For unit tests that run labctl commands: they take the lock (src/system/lock.ts) in a scratch
 * directory, not in the machine's /run/labctl, where an e2e run or a real labctl may hold it.
 * Commands started from the test inherit it through the environment.
 */
export function scratchLockDir(): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'labctl-lock-'));
  const before = process.env.LABCTL_LOCK_DIR;
  process.env.LABCTL_LOCK_DIR = dir;
  afterAll(() => {
    // Put the variable back first: the next file in this worker (isolate: false) would otherwise
    // run labctl with the removed directory, which writes it again (its dpkg-states.json).
    if (before === undefined) delete process.env.LABCTL_LOCK_DIR;
    else process.env.LABCTL_LOCK_DIR = before;
    rmSync(dir, { recursive: true, force: true });
  });
}
