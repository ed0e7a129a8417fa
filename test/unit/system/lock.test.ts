/**
 * The lock (src/system/lock.ts, wired by src/commands/locked.ts): one holder at a time, readers
 * together, `--wait`, exit 75 naming the holder, and a lock the kernel gives back when its
 * holder dies. Runs without root: the lock lives in a scratch LABCTL_LOCK_DIR.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { labctl } from '../../helpers/cli.js';
import { startHolder, type Holder } from '../../helpers/lock-holder.js';
import { acquireLock, lockFile, type HeldLock } from '../../../src/system/lock.js';
import { LabError } from '../../../src/errors.js';
import { runInBackground } from '../../../src/system/run.js';

let dir: string;
let env: Record<string, string>;
const holders: Holder[] = [];
const held: HeldLock[] = [];

const holder = async (mode: 'shared' | 'exclusive', command: string) => {
  const h = await startHolder(mode, command, env);
  holders.push(h);
  return h;
};

/** A report run: it takes the shared lock and needs neither root nor an installed Exim. */
const report = (...before: string[]) => reportSpawned(() => {}, ...before);
const reportSpawned = (onSpawn: (pid: number) => void, ...before: string[]) => labctl([...before, 'report', '--out', '-', '--no-html'], { env, timeoutMs: 30_000, onSpawn });

/** The command line of the flock(1) that the labctl run `pid` started, once it has started it (read from /proc). */
async function flockOf(pid: number, done: Promise<unknown>): Promise<string> {
  let over = false;
  void done.finally(() => (over = true));
  while (!over) {
    const children = (await fs.readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).split(/\s+/).filter(Boolean);
    for (const child of children) {
      const argv = (await fs.readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean);
      if (argv[0] === 'flock') return argv.join(' ');
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`labctl (pid ${pid}) ended without waiting in flock(1)`);
}

async function refusal(p: Promise<unknown>): Promise<LabError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(LabError);
  return err as LabError;
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-lock-'));
  env = { LABCTL_LOCK_DIR: path.join(dir, 'run'), LABCTL_STATE_DIR: path.join(dir, 'state') };
  process.env.LABCTL_LOCK_DIR = env.LABCTL_LOCK_DIR;
});
afterEach(async () => {
  for (const h of held.splice(0)) h.release();
  for (const h of holders.splice(0)) await h.kill();
});
afterAll(async () => {
  delete process.env.LABCTL_LOCK_DIR;
  await fs.rm(dir, { recursive: true, force: true });
});

describe('labctl lock (flock on LABCTL_LOCK_DIR/lock)', () => {
  it('a second run fails at once with exit 75 and one line naming the holder\'s pid and command', async () => {
    const h = await holder('exclusive', 'labctl configure --tls required');
    const r = await report();
    expect(r.exitCode, r.all).toBe(75);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain(`pid ${h.pid} (labctl configure --tls required)`);
    expect(lines[0]).toContain(lockFile());
    expect(lines[0]).toContain('give --wait SECONDS');
    expect(r.stdout).toBe('');
  });

  it('--wait: the second run waits, and goes ahead when the holder lets go in time', async () => {
    const h = await holder('exclusive', 'labctl lab up');
    const started = Date.now();
    let pid = 0;
    const run = reportSpawned((p) => (pid = p), '--wait', '10');
    // Let go once the run is seen waiting for the lock (its flock(1) blocked with --timeout), not after a fixed sleep.
    const waiting = await flockOf(pid, run);
    expect(waiting).toMatch(/^flock --shared --timeout 10 /);
    const waitedMs = Date.now() - started;
    // The run is still waiting: the holder has not let go yet.
    expect(await Promise.race([run.then(() => 'ended'), new Promise((r) => setTimeout(() => r('waiting'), 200))])).toBe('waiting');
    await h.release();
    const r = await run;
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toContain('evidence records');
    console.log(`--wait: the run was waiting in flock after ${waitedMs} ms, and went ahead ${Date.now() - started} ms after it started`);
  });

  it('--wait: a holder that stays past the wait still fails the run with 75, after the wait', async () => {
    const h = await holder('exclusive', 'labctl lab drill backup-mx --messages 1000');
    const started = Date.now();
    const r = await report('--wait', '1');
    expect(r.exitCode, r.all).toBe(75);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(r.stderr).toContain(`pid ${h.pid} (labctl lab drill backup-mx --messages 1000)`);
    expect(r.stderr).toContain('waited 1 s');
  });

  it('--wait takes seconds and nothing else', async () => {
    const r = await report('--wait', 'soon');
    expect(r.exitCode, r.all).toBe(2);
    expect(r.stderr).toContain('--wait "soon" is not a number of seconds');
  });

  it('shared: two readers hold it together, a writer is refused and told about the reader', async () => {
    const reader = await holder('shared', 'labctl verify');
    const r = await report();
    expect(r.exitCode, r.all).toBe(0);

    const second = await acquireLock('shared', { command: 'labctl report (in-process)' });
    expect(second?.mode).toBe('shared');
    second!.release();

    const err = await refusal(acquireLock('exclusive', { command: 'labctl configure' }));
    expect(err.exitCode).toBe(75);
    expect(err.message).toContain(`pid ${reader.pid} (labctl verify, shared)`);
    expect(err.message).toContain('wanted it alone');
  });

  it('exclusive: refused while another process holds it, granted once it is released', async () => {
    const h = await holder('exclusive', 'labctl install');
    const err = await refusal(acquireLock('exclusive', { command: 'labctl configure' }));
    expect(err.exitCode).toBe(75);
    expect(err.message).toContain(`pid ${h.pid} (labctl install)`);
    await h.release();
    const mine = await acquireLock('exclusive', { command: 'labctl configure' });
    expect(mine).toBeDefined();
    held.push(mine!);
    // And now this process is the holder another run is told about.
    const other = await startHolder('shared', 'labctl verify', env).then(
      () => 'acquired',
      (e: Error) => e.message,
    );
    expect(other).toContain(`pid ${process.pid} (labctl configure)`);
  });

  it('kill -9 of the holder: the kernel gives the lock back at once, and the dead holder is not named', async () => {
    const h = await holder('exclusive', 'labctl configure');
    await h.kill();
    const mine = await acquireLock('exclusive', { command: 'labctl configure', waitSeconds: 0 });
    expect(mine).toBeDefined();
    held.push(mine!);
    const records = await fs.readdir(path.join(env.LABCTL_LOCK_DIR, 'holders'));
    expect(records).toEqual([String(process.pid)]);
  });

  it('a process started while the lock is held (a daemon, make) does not keep it', async () => {
    const mine = await acquireLock('exclusive', { command: 'labctl service start' });
    const daemon = runInBackground('sleep', ['30']);
    try {
      mine!.release();
      const next = await holder('exclusive', 'labctl configure');
      expect(next.pid).toBeGreaterThan(0);
    } finally {
      await daemon.stop('SIGKILL');
    }
  });
});
