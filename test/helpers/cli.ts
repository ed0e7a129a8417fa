import { execa } from 'execa';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const labctlBin = path.join(repoRoot, 'bin/labctl');

/** Runs the built CLI (npm test builds it first) and never throws on a non-zero exit. */
export async function labctl(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; input?: string; onSpawn?: (pid: number) => void } = {}) {
  const child = execa('node', [labctlBin, ...args], {
    cwd: repoRoot,
    env: { NO_COLOR: '1', ...opts.env },
    reject: false,
    timeout: opts.timeoutMs ?? 600_000,
    input: opts.input,
    stdin: opts.input === undefined ? 'ignore' : undefined,
  });
  if (child.pid !== undefined) opts.onSpawn?.(child.pid);
  const r = await child;
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), all: `${r.stdout}\n${r.stderr}` };
}

/** The offline mirror made from Debian's exim4 source package (scripts/mirror-from-debian.sh), made once per run. */
export async function offlineMirror(): Promise<string> {
  const dir = process.env.LABCTL_TEST_MIRROR ?? path.join(repoRoot, 'build/mirror');
  const { existsSync } = await import('node:fs');
  // 4.96, 4.98.2 and 4.100.1: the releases Debian's archive carries (labctl mirror lays them out).
  if (!['4.96', '4.98.2', '4.100.1'].every((v) => existsSync(path.join(dir, `exim4/exim-${v}.tar.xz.asc`)))) {
    await execa('bash', [path.join(repoRoot, 'scripts/mirror-from-debian.sh'), dir], { stdio: 'inherit' });
  }
  return dir;
}
