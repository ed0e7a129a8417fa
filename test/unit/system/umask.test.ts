/**
 * labctl sets its own umask: run under a caller's umask 0000, what it creates (here the
 * directories `labctl report --out` makes) is still not writable by group or others, so nobody
 * can change a cache or build tree between its verification and a `make` run as root.
 */
import { execa } from 'execa';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labctlBin, repoRoot } from '../../helpers/cli.js';
import { scratchLockDir } from '../../helpers/lock-dir.js';

scratchLockDir();

describe("labctl's umask", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('under umask 0000 the directories and files it creates are not group- or world-writable', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'labctl-umask-'));
    dirs.push(dir);
    const out = path.join(dir, 'made/by/labctl/report.md');
    const r = await execa('sh', ['-c', 'umask 0000 && exec node "$0" report --out "$1" --no-html', labctlBin, out], { cwd: repoRoot, env: { NO_COLOR: '1', LABCTL_STATE_DIR: path.join(dir, 'state') }, reject: false });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    for (const p of ['made', 'made/by', 'made/by/labctl', 'made/by/labctl/report.md']) {
      const mode = (await stat(path.join(dir, p))).mode & 0o777;
      expect(mode & 0o022, `${p} has mode ${mode.toString(8)}`).toBe(0);
    }
  });
});
