/**
 * The verified tarball, unpacked with node-tar into a fresh source tree. With --from-build, the
 * built programs of the export's tree are then put into its build directory (src/install/prebuilt.ts).
 */
import path from 'node:path';
import { LabError } from '../../errors.js';
import { paths } from '../../paths.js';
import { extractTarball } from '../../source/extract.js';
import { ensureDir, removePath } from '../../system/files.js';
import type { Step } from '../../steps/types.js';
import { buildPaths, isUpToDate, releaseOf, withoutRelease, type InstallContext } from '../context.js';
import { stagePrebuilt } from '../prebuilt.js';

export const extract: Step<InstallContext> = {
  id: 'extract',
  title: 'extract source',
  async check(ctx) {
    if (!ctx.release) return withoutRelease(ctx);
    return (await isUpToDate(ctx)) ? { done: true, detail: `exim ${ctx.release.version} already built with these options` } : { done: false };
  },
  async apply(ctx) {
    const { srcDir } = buildPaths(releaseOf(ctx).version);
    await isUpToDate(ctx);
    // --from-build: the export's tree is checked and unpacked privately before the build root is touched.
    const staged = ctx.prebuilt ? await stagePrebuilt(ctx, ctx.prebuilt, ctx.o.fromBuild!) : undefined;
    try {
      await removePath(srcDir);
      await ensureDir(paths.buildRoot);
      // From the verified bytes only: a tarball changed since the signature check is refused.
      const dir = await extractTarball(releaseOf(ctx).tarballPath, paths.buildRoot, { sha256: releaseOf(ctx).sha256 });
      if (path.resolve(dir) !== path.resolve(srcDir)) throw new LabError(`the tarball unpacked to ${dir}, expected ${srcDir}`);
      if (!staged) return { detail: srcDir };
      await staged.place(srcDir);
      ctx.prebuiltBuildDir = staged.buildDir;
      return { detail: `${srcDir}; ${staged.programs.length} programs built on ${ctx.prebuilt!.builtOn} into ${staged.buildDir} (${ctx.prebuilt!.tree})` };
    } finally {
      await staged?.dispose();
    }
  },
};
