/**
 * A marker left by an interrupted drill that is not a whole marker (torn, hand-edited, or from an
 * older labctl) must not crash a run as root: before the fix `labctl --version` died with exit 70
 * ("unexpected error", a TypeError reading the marker's start command). The daemon is started as
 * `labctl service start` would, from the service settings, never from a command in the file.
 * The "daemon" here is a stand-in program in a scratch state directory (service.json points at
 * it), so the machine's own Exim is never touched: what is under test is labctl's restore logic.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labctlHere } from '../helpers/cli.js';

let state: string;

beforeEach(async () => {
  state = await mkdtemp(path.join(os.tmpdir(), 'labctl-marker-'));
});
afterEach(async () => {
  const pid = Number.parseInt(await readFile(path.join(state, 'daemon.pid'), 'utf8').catch(() => ''), 10);
  if (pid > 0) process.kill(pid, 'SIGTERM');
  await rm(state, { recursive: true, force: true });
});

/** service.json naming a stand-in daemon: `-bd -qX -oP FILE` writes a live pid to FILE, or fails. */
async function standIn(starts: boolean): Promise<void> {
  const bin = path.join(state, 'daemon');
  await writeFile(bin, starts ? '#!/bin/sh\nsleep 300 </dev/null >/dev/null 2>&1 &\necho $! > "$4"\n' : '#!/bin/sh\necho "stand-in refuses to start" >&2\nexit 1\n');
  await chmod(bin, 0o755);
  await writeFile(path.join(state, 'service.json'), JSON.stringify({ binary: bin, queueInterval: '30m', pidFile: path.join(state, 'daemon.pid') }));
}

const marker = () => path.join(state, 'daemon-stopped-by-drill.json');
// labctl --version: the restore runs in main() before any command, here in this process (labctlHere).
const version = () => labctlHere(['--version'], { env: { LABCTL_STATE_DIR: state } });

describe('a malformed daemon-down marker, seen by a run as root', () => {
  it('runs as root (only root restores the daemon)', () => {
    expect(process.getuid?.(), 'this test must run as root: the restore path is root-only').toBe(0);
  });

  it.each([
    ['an older shape without pid', JSON.stringify({ since: '2026-12-01T00:00:00Z', manager: 'systemd' })],
    ['a torn write', '{"pid": 12'],
    ['a pid that is not a number', JSON.stringify({ pid: 'x', by: 'labctl drill backup-mx', at: 'now', start: { file: '/bin/sh', args: ['-c', 'touch /tmp/owned'] } })],
  ])('%s: starts the daemon from the service settings, says so, removes the marker, and the command goes on', async (_what, text) => {
    await standIn(true);
    await writeFile(marker(), text);
    const r = await version();
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.stderr).toMatch(/^labctl: the Exim daemon was left stopped by an interrupted labctl drill \(its marker .* is unreadable: .*\): started it again$/m);
    expect(existsSync(marker())).toBe(false);
    const pid = Number.parseInt(await readFile(path.join(state, 'daemon.pid'), 'utf8'), 10);
    expect(() => process.kill(pid, 0)).not.toThrow();
  });

  it('a daemon that will not start: one line saying what to do, the marker kept, the command goes on', async () => {
    await standIn(false);
    await writeFile(marker(), 'not json');
    const r = await version();
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stderr).toMatch(/^labctl: the Exim daemon was left stopped by an interrupted labctl drill .* could not be started \(.*\): run labctl service start$/m);
    expect(existsSync(marker())).toBe(true);
  });

  it('a marker whose command is not the service settings\' is never run', async () => {
    await standIn(true);
    const planted = path.join(state, 'planted');
    await writeFile(marker(), JSON.stringify({ pid: 2 ** 22 + 1, by: 'labctl drill backup-mx', at: '2026-12-01T00:00:00Z', start: { file: '/bin/sh', args: ['-c', `touch ${planted}`] } }));
    const r = await version();
    expect(r.stderr, r.all).toMatch(/interrupted labctl drill backup-mx \(at 2026-12-01T00:00:00Z\): started it again/);
    expect(existsSync(planted)).toBe(false);
  });
});
