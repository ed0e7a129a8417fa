import { exists } from './files.js';
import { run } from './run.js';

export async function isAptBased(): Promise<boolean> {
  return (await exists('/usr/bin/apt-get')) && (await exists('/usr/bin/dpkg-query'));
}

/** Installed Debian packages whose names match any of the given dpkg-query patterns (globs allowed). */
export async function installedPackages(patterns: string[]): Promise<string[]> {
  const r = await run('dpkg-query', ['-W', '-f', '${Package}\\t${db:Status-Abbrev}\\n', ...patterns], { allowFailure: true });
  return r.stdout
    .split('\n')
    .map((l) => l.split('\t'))
    .filter(([name, status]) => name && status?.startsWith('ii'))
    .map(([name]) => name);
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
