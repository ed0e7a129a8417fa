/**
 * One labctl at a time. Commands that change the machine hold the lock exclusively; commands
 * that only read what those write (verify, report, the dry runs) hold it shared, so they never
 * read a half-written state and any number of them can run together.
 *
 * The lock is flock(2) on `<lockDir>/lock` (/run/labctl/lock), held through a file descriptor of
 * this process, so the kernel releases it when the process ends, however it ends (kill -9
 * included). Node has no flock call, and the npm packages that add one are native addons built
 * with node-gyp; util-linux's flock(1) (on every Debian machine) does the call instead, on our
 * descriptor passed to it as its fd 3. A flock lock belongs to the open file description, which
 * the two processes share, so it stays held after flock(1) exits, until labctl closes the
 * descriptor or dies. Node opens files close-on-exec, so nothing labctl starts later (make, an
 * Exim daemon) inherits the descriptor and keeps the lock alive.
 *
 * Who holds the lock is kept beside it, one small file per holder (`holders/<pid>`), so a run
 * that cannot have the lock can name the pid and the command in its way.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, promises as fs, rmSync } from 'node:fs';
import path from 'node:path';
import { EXIT, LabError } from '../errors.js';
import { paths } from '../paths.js';
import { writeAtomic } from './files.js';
import { alive, sleep } from './procs.js';

export type LockMode = 'shared' | 'exclusive';

export interface LockHolder {
  pid: number;
  mode: LockMode;
  command: string;
}

export interface HeldLock {
  mode: LockMode;
  file: string;
  release(): void;
}

export interface LockOptions {
  /** How long to wait for the lock; 0 (the default) fails at once. */
  waitSeconds?: number;
  /** What this run is, as shown to a run that finds the lock taken: `labctl configure --tls required`. */
  command: string;
}

/** flock(1)'s exit status when the lock was not to be had (in time); the same as labctl's. */
const CONFLICT = EXIT.busy;

export const lockFile = () => path.join(paths.lockDir, 'lock');
const holdersDir = () => path.join(paths.lockDir, 'holders');
const holderFile = (pid: number) => path.join(holdersDir(), String(pid));

const errno = (err: unknown) => (err as NodeJS.ErrnoException).code;
const denied = (err: unknown) => ['EACCES', 'EPERM', 'EROFS'].includes(errno(err) ?? '');

/**
 * Opens the lock file, making it and its directory when needed. Undefined when this user may
 * not write it: a user who cannot cannot change what the lock protects either, and is better
 * told so by the command's own root check than by a lock it could never have used.
 */
async function openLockFile(mode: LockMode): Promise<number | undefined> {
  const file = lockFile();
  try {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
    return openSync(file, 'a+', 0o644);
  } catch (err) {
    if (!denied(err)) throw new LabError(`cannot open the lock file ${file}: ${(err as Error).message}`);
  }
  if (mode === 'exclusive') return undefined;
  // A reader without root (verify, report, a dry run) still waits for a writer: flock needs no
  // write access. When the file is not there, no writer has ever run since boot.
  try {
    return openSync(file, 'r');
  } catch {
    return undefined;
  }
}

/** Runs flock(1) on `fd`; true when the lock is now held by `fd`, false when it was taken. */
async function flockOn(fd: number, mode: LockMode, waitSeconds: number): Promise<boolean> {
  const args = [mode === 'shared' ? '--shared' : '--exclusive', ...(waitSeconds > 0 ? ['--timeout', String(waitSeconds)] : ['--nonblock']), '--conflict-exit-code', String(CONFLICT), '3'];
  // Plain spawn: execa's types take no descriptor beyond stderr. Never a shell.
  const r = await new Promise<{ code: number | null; stderr: string; error?: Error }>((resolve) => {
    const child = spawn('flock', args, { stdio: ['ignore', 'ignore', 'pipe', fd] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => resolve({ code: null, stderr, error }));
    child.on('close', (code) => resolve({ code, stderr }));
  });
  if (r.code === 0) return true;
  if (r.code === CONFLICT) return false;
  const why = r.error ? r.error.message : `exit ${r.code ?? 'by a signal'}: ${r.stderr.trim()}`;
  throw new LabError(`cannot lock ${lockFile()} with flock(1) (${why})`, 'flock comes with util-linux: apt-get install util-linux');
}

/** The recorded holders whose process is still alive, other than this one. */
export async function lockHolders(): Promise<LockHolder[]> {
  const names = await fs.readdir(holdersDir()).catch(() => [] as string[]);
  const holders: LockHolder[] = [];
  for (const name of names) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid || !alive(pid)) continue;
    const text = await fs.readFile(holderFile(pid), 'utf8').catch(() => '');
    try {
      const h = JSON.parse(text) as LockHolder;
      holders.push({ pid, mode: h.mode === 'shared' ? 'shared' : 'exclusive', command: String(h.command) });
    } catch {
      // Being written this very moment, or left half-written by a crash: not a holder to name.
    }
  }
  return holders;
}

/**
 * Writes this process's holder record. An exclusive holder is alone, so every other record is
 * stale (its process died without removing it); a shared holder clears those of dead processes.
 * A reader that may not write there (not root) stays unrecorded: it is named as "a reader".
 */
async function recordHolder(mode: LockMode, command: string): Promise<(() => void) | undefined> {
  try {
    await fs.mkdir(holdersDir(), { recursive: true, mode: 0o755 });
    for (const name of await fs.readdir(holdersDir())) {
      const pid = Number(name);
      if (pid === process.pid) continue;
      // A name that is no pid is a record being written (by a reader, while this one reads too).
      if (mode === 'exclusive' || (Number.isInteger(pid) && !alive(pid))) await fs.rm(path.join(holdersDir(), name), { force: true });
    }
    // Whole or not at all: a run that finds the lock taken must never read half a record.
    await writeAtomic(holderFile(process.pid), JSON.stringify({ pid: process.pid, mode, command }) + '\n', { mode: 0o644 });
  } catch (err) {
    if (denied(err)) return undefined;
    throw err;
  }
  const file = holderFile(process.pid);
  return () => rmSync(file, { force: true });
}

/** One line naming who has the lock, for the run that could not have it. */
async function busyError(mode: LockMode, waitSeconds: number): Promise<LabError> {
  // The holder writes its record right after it got the lock: give a brand-new holder a moment.
  let holders = await lockHolders();
  for (let i = 0; i < 5 && holders.length === 0; i++) {
    await sleep(100);
    holders = await lockHolders();
  }
  const named = holders.map((h) => `pid ${h.pid} (${h.command}${h.mode === 'shared' ? ', shared' : ''})`).join(', ');
  const who = named || 'another process (it left no record: a reader without root, or a crash)';
  const waited = waitSeconds > 0 ? `waited ${waitSeconds} s` : 'give --wait SECONDS to wait for it';
  return new LabError(`${lockFile()} is held by ${who}; this run wanted it ${mode === 'shared' ? 'shared' : 'alone'} (${waited})`, undefined, EXIT.busy);
}

/**
 * Takes the lock, waiting up to `waitSeconds`; throws a LabError with exit code 75 naming the
 * holder when it stays taken. Undefined when this user cannot open the lock file (see
 * openLockFile), and the run goes ahead without it. `release()` gives it back; the process ending does too.
 */
export async function acquireLock(mode: LockMode, o: LockOptions): Promise<HeldLock | undefined> {
  const waitSeconds = o.waitSeconds ?? 0;
  const fd = await openLockFile(mode);
  if (fd === undefined) return undefined;
  let locked = false;
  try {
    locked = await flockOn(fd, mode, waitSeconds);
  } finally {
    if (!locked) closeSync(fd);
  }
  if (!locked) throw await busyError(mode, waitSeconds);

  const forget = await recordHolder(mode, o.command).catch((err: unknown) => {
    closeSync(fd);
    throw err;
  });
  // An exit through process.exit (verify --lab hands over its child's status) skips `finally`.
  const onExit = () => forget?.();
  process.once('exit', onExit);
  let released = false;
  return {
    mode,
    file: lockFile(),
    release() {
      if (released) return;
      released = true;
      process.removeListener('exit', onExit);
      forget?.();
      closeSync(fd);
    },
  };
}
