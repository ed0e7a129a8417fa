import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LabError } from '../errors.js';
import { lookupUser } from './accounts.js';
import { globPattern, packageStates, simplePatterns } from './dpkg-status.js';
import { exists, readIfExists, writeAtomic } from './files.js';
import { osRelease } from './machine.js';
import { run } from './run.js';

export async function isAptBased(): Promise<boolean> {
  return (await exists('/usr/bin/apt-get')) && (await exists('/usr/bin/dpkg-query'));
}

/** The dpkg-query arguments that list packages matching the patterns (globs allowed) with their status. */
export const packageQuery = (patterns: readonly string[]) => ['-W', '-f', '${Package}\\t${db:Status-Abbrev}\\n', ...patterns];

/** The installed packages in packageQuery's output (status ii). */
export function installedIn(dpkgQueryOutput: string): string[] {
  return dpkgQueryOutput
    .split('\n')
    .map((l) => l.split('\t'))
    .filter(([name, status]) => name && status?.startsWith('ii'))
    .map(([name]) => name!);
}

/** Installed Debian packages whose names match any of the given dpkg-query patterns (globs allowed). */
export async function installedPackages(patterns: string[]): Promise<string[]> {
  if (simplePatterns(patterns)) {
    const states = await packageStates();
    const wanted = patterns.map(globPattern);
    return [...states].filter(([name, st]) => st.status.startsWith('ii') && wanted.some((re) => re.test(name))).map(([name]) => name);
  }
  const r = await run('dpkg-query', packageQuery(patterns), { allowFailure: true });
  return installedIn(r.stdout);
}

export async function packageOwning(file: string): Promise<string | undefined> {
  const r = await run('dpkg-query', ['-S', file], { allowFailure: true });
  return r.exitCode === 0 ? r.stdout.split(':')[0].trim() : undefined;
}

const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive' };

export async function aptInstall(pkgs: string[]): Promise<void> {
  if (!pkgs.length) return;
  let r = await run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...pkgs], { env: APT_ENV, allowFailure: true });
  if (r.exitCode !== 0) {
    // Package lists may be empty or stale on a fresh machine: refresh once and retry.
    await run('apt-get', ['update', '-q'], { env: APT_ENV });
    r = await run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...pkgs], { env: APT_ENV });
  }
}

export async function aptRemove(pkgs: string[]): Promise<void> {
  if (pkgs.length) await run('apt-get', ['remove', '-y', '-q', ...pkgs], { env: APT_ENV });
}

/** The machine's apt source files (deb822 and one-line), read-only, and its distribution id. */
export async function machineAptSources(): Promise<{ distro: string; files: { name: string; text: string }[] }> {
  const names = ['/etc/apt/sources.list', ...(await fs.readdir('/etc/apt/sources.list.d').catch(() => [] as string[])).map((n) => `/etc/apt/sources.list.d/${n}`)];
  const files: { name: string; text: string }[] = [];
  for (const name of names) {
    const text = await readIfExists(name);
    if (text !== undefined) files.push({ name, text });
  }
  const id = (await osRelease()).ID ?? '';
  const distro = /^[a-z]+$/.test(id) ? id : 'debian';
  return { distro, files };
}

/** apt's download methods run as this user, never as root (apt's own default). */
export const APT_SANDBOX_USER = '_apt';

/**
 * Runs apt against a private state directory: its own sources list, lists and caches, so the
 * machine's apt configuration and package lists are never touched. Returns
 * `apt-cache showsrc PACKAGE` after an `update` (failures of single suites are tolerated: a
 * later suite may not exist on every archive). The downloads run as `_apt`, which owns the
 * `partial` directories it writes; where apt could only download as root (a directory above the
 * state that `_apt` cannot enter), labctl stops instead of letting apt fall back to root.
 */
export async function privateShowsrc(stateDir: string, sourceLines: string[], pkg: string): Promise<{ showsrc: string; updateLog: string }> {
  const sandbox = await lookupUser(APT_SANDBOX_USER);
  if (!sandbox) throw new LabError(`apt's sandbox user ${APT_SANDBOX_USER} does not exist`, 'reinstall apt (it creates the user), then run again');
  for (const partial of ['lists/partial', 'cache/archives/partial']) {
    const dir = path.join(stateDir, partial);
    await fs.mkdir(dir, { recursive: true, mode: 0o755 });
    await fs.chown(dir, sandbox.uid, 0);
    await fs.chmod(dir, 0o700);
  }
  const list = path.join(stateDir, 'sources.list');
  await writeAtomic(list, `${sourceLines.join('\n')}\n`);
  const opts = [
    '-o', `Dir::Etc::sourcelist=${list}`,
    '-o', 'Dir::Etc::sourceparts=-',
    '-o', `Dir::State::Lists=${path.join(stateDir, 'lists')}`,
    '-o', `Dir::Cache=${path.join(stateDir, 'cache')}`,
    '-o', `APT::Sandbox::User=${APT_SANDBOX_USER}`,
  ];
  const update = await run('apt-get', [...opts, '-q', 'update'], { env: APT_ENV, allowFailure: true, timeoutMs: 300_000 });
  const updateLog = `${update.command}\n${update.stdout}\n${update.stderr}`.trim();
  const unsandboxed = /^W: Download is performed unsandboxed as root.*$/m.exec(updateLog)?.[0];
  if (unsandboxed) {
    throw new LabError(`apt could download only as root, not as ${APT_SANDBOX_USER}: ${unsandboxed.replace(/^W: /, '')}`, `let ${APT_SANDBOX_USER} enter ${stateDir} (every directory above it needs o+x), then run again`);
  }
  const showsrc = await run('apt-cache', [...opts, 'showsrc', pkg], { allowFailure: true });
  return { showsrc: showsrc.stdout, updateLog };
}
