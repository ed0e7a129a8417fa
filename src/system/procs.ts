import { promises as fs, readFileSync } from 'node:fs';

/** Small process helpers: pid files, liveness, signalling with a deadline. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** True while the process exists and is not a zombie waiting for an init that never reaps. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export async function readPidFile(file: string): Promise<number | undefined> {
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  const pid = text ? Number.parseInt(text.trim(), 10) : NaN;
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The pid from a pid file when that process is running. */
export async function runningPid(file: string): Promise<number | undefined> {
  const pid = await readPidFile(file);
  return pid !== undefined && alive(pid) ? pid : undefined;
}

export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(stepMs);
  }
  return cond();
}

/** The pids whose parent is `pid` now (read from /proc), sorted: a daemon's workers. */
export async function childPids(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const e of await fs.readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(e)) continue;
    const stat = await fs.readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid && alive(Number(e))) out.push(Number(e));
  }
  return out.sort((a, b) => a - b);
}

/** Sends a signal; a process that is already gone is not an error. */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** SIGTERM, then SIGKILL for whatever is still there after `graceMs`. Returns what was signalled. */
export async function terminate(pids: number[], graceMs = 2000): Promise<number[]> {
  const live = pids.filter(alive);
  for (const pid of live) signal(pid, 'SIGTERM');
  await waitUntil(() => live.every((p) => !alive(p)), graceMs);
  for (const pid of live.filter(alive)) signal(pid, 'SIGKILL');
  await waitUntil(() => live.every((p) => !alive(p)), 2000);
  return live;
}

/**
 * Whether process `pid` runs the file that `binary` names now: the same inode. A daemon still
 * running a binary that make install has since replaced (unlinked, then a new file) does not.
 */
export async function runsBinary(pid: number, binary: string): Promise<boolean> {
  const [running, installed] = await Promise.all([fs.stat(`/proc/${pid}/exe`).catch(() => undefined), fs.stat(binary).catch(() => undefined)]);
  return !!running && !!installed && running.ino === installed.ino && running.dev === installed.dev;
}

/**
 * labctl's own umask: whatever the caller's, at least group and others lose write (0022), so the
 * cache, the build tree and every file labctl makes between a verification and a `make` run as
 * root cannot be changed by another user. A stricter umask is kept. Returns the one in force.
 */
export function restrictUmask(): number {
  const mask = process.umask() | 0o022;
  process.umask(mask);
  return mask;
}
