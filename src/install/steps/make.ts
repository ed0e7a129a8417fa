/** `make -j<cores>` and `make install`, with a live line on a terminal and the full log in a file. */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LabError } from '../../errors.js';
import { readLinkIfAny, removePath } from '../../system/files.js';
import { runLogged } from '../../system/run.js';
import type { Step } from '../../steps/types.js';
import { LiveLine, tail } from '../../ui/live.js';
import { compilerCache } from '../../system/ccache.js';
import { buildPaths, isUpToDate, releaseOf, withoutRelease, type InstallContext } from '../context.js';
import { eximInstallEnv } from '../prebuilt.js';
import { markRestartPending } from '../record.js';

async function make(ctx: InstallContext, title: string, args: string[], command = 'make', cwd = buildPaths(releaseOf(ctx).version).srcDir, env?: Record<string, string>) {
  const { buildLog } = buildPaths(releaseOf(ctx).version);
  const live = new LiveLine(`  ${title}:`);
  // LABCTL_CCACHE=1: make's compiler through ccache (src/system/ccache.ts); --from-build's install script compiles nothing.
  const cc = command === 'make' ? await compilerCache() : undefined;
  const before = await cc?.stats();
  try {
    await runLogged(command, [...args, ...(cc?.makeArgs ?? [])], { cwd, logFile: buildLog, onLine: (l) => live.update(l), ...(env || cc ? { env: { ...env, ...cc?.env } } : {}) });
  } catch {
    live.clear();
    throw new LabError(`${title} failed; the last 30 lines of ${buildLog}:\n${await tail(buildLog, 30)}`, `full log: ${buildLog}`);
  }
  live.clear();
  const after = await cc?.stats();
  if (cc) ctx.ccache = { dir: cc.dir, ...(before && after ? { hits: (ctx.ccache?.hits ?? 0) + after.hits - before.hits, misses: (ctx.ccache?.misses ?? 0) + after.misses - before.misses } : {}) };
  const cached = cc ? `; ccache${before && after ? `: ${after.hits - before.hits} compiles from the cache, ${after.misses - before.misses} compiled` : ''} (${cc.dir})` : '';
  return { detail: `log ${buildLog}${cached}`, evidence: [{ kind: 'log' as const, label: `last lines of ${path.basename(buildLog)}`, text: await tail(buildLog, 15) }] };
}

const upToDate = async (ctx: InstallContext) => ((await isUpToDate(ctx)) ? { done: true, detail: 'up to date' } : { done: false });
const cores = os.availableParallelism();

export const build: Step<InstallContext> = {
  id: 'build',
  title: `make -j${cores}`,
  async check(ctx) {
    // --from-build compiles nothing: the built programs come from the export (extract put them in place).
    if (ctx.prebuilt) return { done: true, detail: `nothing to compile: the programs built on ${ctx.prebuilt.builtOn}` };
    return ctx.release ? upToDate(ctx) : withoutRelease(ctx);
  },
  async apply(ctx) {
    const { buildLog } = buildPaths(releaseOf(ctx).version);
    await removePath(buildLog);
    ctx.note(`build log: ${buildLog}`);
    return make(ctx, `make -j${cores}`, [`-j${cores}`]);
  },
};

export const makeInstall: Step<InstallContext> = {
  id: 'make-install',
  title: 'make install',
  async check(ctx) {
    return ctx.release ? upToDate(ctx) : withoutRelease(ctx);
  },
  async apply(ctx) {
    ctx.previousLink = await readLinkIfAny(ctx.binary);
    // From here until the daemon greets on the new binary, install.json says a restart is due.
    await markRestartPending(ctx);
    await unlinkInstalledBinaries(ctx.o.binDirectory, releaseOf(ctx).version);
    if (ctx.prebuilt) {
      // No make in a copied tree: the verified tarball's own install script, run as `make install` would.
      const dir = ctx.prebuiltBuildDir;
      if (!dir) throw new Error('install: the extract step has not placed the built programs');
      const { srcDir } = buildPaths(releaseOf(ctx).version);
      return make(ctx, 'scripts/exim_install', ['../scripts/exim_install'], 'sh', path.join(srcDir, dir), eximInstallEnv(ctx.o, dir));
    }
    return make(ctx, 'make install', ['install']);
  },
};

/**
 * make install copies the new binary over exim-<version>-<n>; while a daemon (ours, or a lab
 * host's) runs that file the copy fails with "Text file busy". Unlinking it first is safe: running
 * daemons keep their inode, and their next re-exec (HUP, restart) picks up the new file.
 */
async function unlinkInstalledBinaries(binDirectory: string, version: string): Promise<void> {
  const names = await fs.readdir(binDirectory).catch(() => [] as string[]);
  const pattern = new RegExp(`^exim-${version.replace(/\./g, '\\.')}-\\d+$`);
  for (const name of names.filter((n) => pattern.test(n))) await removePath(path.join(binDirectory, name));
}
