/**
 * A drill killed with -9 leaves a marker while the daemon is down; the next labctl run as root
 * starts it again. A run as another user cannot, and must not try (systemctl start would fail,
 * or ask polkit): it says what to do and goes on with its own command.
 */
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { labctlBin as cli } from '../helpers/cli.js';

describe('a daemon left down by an interrupted drill, seen by a user who is not root', () => {
  it('names what to do and starts nothing', async () => {
    const state = await mkdtemp(path.join(os.tmpdir(), 'labctl-left-down-'));
    try {
      await writeFile(path.join(state, 'daemon-stopped-by-drill.json'), JSON.stringify({ since: new Date().toISOString(), manager: 'systemd' }));
      // The CLI as a user who is not root: its process reports uid 65534 (nobody), files stay readable.
      const asNobody = ['--import', 'data:text/javascript,process.getuid=()=>65534'];
      const r = await execa(process.execPath, [...asNobody, cli, '--version'], { reject: false, all: true, env: { LABCTL_STATE_DIR: state } });
      expect(r.exitCode, r.all).toBe(0);
      expect(r.stderr).toMatch(/^labctl: the Exim daemon was left stopped by an interrupted labctl drill; run any labctl command as root/m);
      expect(r.stderr).not.toMatch(/systemctl|started it again|could not start/i);
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  });
});
