/** --export-build DIR: the installed release and its built tree, for `labctl install --from-build DIR` elsewhere. */
import path from 'node:path';
import { unknownOutcome, type Step } from '../../steps/types.js';
import { isUpToDate, releaseOf, type InstallContext } from '../context.js';
import { exportBuild } from '../export-build.js';
import { currentExport } from '../prebuilt.js';

export const exportBuildStep: Step<InstallContext> = {
  id: 'export-build',
  title: 'export the build (--export-build)',
  async check(ctx) {
    // In the run only with --export-build (install's stepsFor).
    const dir = ctx.o.exportBuild!;
    if (!ctx.release) return ctx.installedBefore ? unknownOutcome(`whether ${path.resolve(dir)} holds the build cannot be told without the release`) : { done: false, detail: `-> ${path.resolve(dir)}` };
    await isUpToDate(ctx);
    const m = await currentExport(dir, ctx.inputsKey);
    return m ? { done: true, detail: `${dir} holds this build (Exim ${m.version}, inputs ${m.inputsKey})` } : { done: false, detail: `-> ${path.resolve(dir)}` };
  },
  async apply(ctx) {
    const dir = path.resolve(ctx.o.exportBuild!);
    await isUpToDate(ctx);
    const r = await exportBuild(ctx, dir, releaseOf(ctx).tarballPath, ctx.o.cacheDir);
    const m = r.manifest;
    return {
      status: r.changed ? 'changed' : 'ok',
      detail: `${dir}: Exim ${m.version}, inputs ${m.inputsKey}, ${m.machine.arch} ${m.machine.os}; install it elsewhere with labctl install --from-build ${dir}`,
      evidence: [{ kind: 'data', label: 'build manifest', data: m }],
    };
  },
};
