/** The verified tarball, unpacked with node-tar into a fresh source tree. */
import path from 'node:path';
import { LabError } from '../../errors.js';
import { paths } from '../../paths.js';
import { extractTarball } from '../../source/extract.js';
import { ensureDir, removePath } from '../../system/files.js';
import type { Step } from '../../steps/types.js';
import { buildPaths, isUpToDate, releaseOf, type InstallContext } from '../context.js';
import { checkPrebuilt } from '../prebuilt.js';

export const extract: Step<InstallContext> = {
  id: 'extract',
  title: 'extract source',
  async check(ctx) {
    if (!ctx.release) return { done: false, detail: `the chosen tarball -> ${paths.buildRoot}/exim-<version>` };
    return (await isUpToDate(ctx)) ? { done: true, detail: `exim ${ctx.release.version} already built with these options` } : { done: false };
  },
  async apply(ctx) {
    const { srcDir } = buildPaths(releaseOf(ctx).version);
    // --from-build: the tree another machine built from this same verified tarball, not the tarball.
    await isUpToDate(ctx);
    const tree = ctx.prebuilt ? await checkPrebuilt(ctx, ctx.prebuilt, ctx.o.fromBuild!) : undefined;
    await removePath(srcDir);
    await ensureDir(paths.buildRoot);
    const dir = await extractTarball(tree ?? releaseOf(ctx).tarballPath, paths.buildRoot);
    if (path.resolve(dir) !== path.resolve(srcDir)) throw new LabError(`the ${tree ? 'built tree' : 'tarball'} unpacked to ${dir}, expected ${srcDir}`);
    return { detail: tree ? `${srcDir}, built on ${ctx.prebuilt!.builtOn} (${tree})` : srcDir };
  },
};
