/** 1d: Local/Makefile from the release's own src/EDITME with the lab's settings applied. */
import path from 'node:path';
import { LabError } from '../../errors.js';
import { readIfExists, writeIfChanged } from '../../system/files.js';
import type { Step } from '../../steps/types.js';
import { unifiedDiff } from '../../ui/diff.js';
import { buildPaths, isUpToDate, makefileOptions, releaseOf, withoutRelease, type InstallContext } from '../context.js';
import { labSettings, renderMakefile, settingsTable } from '../makefile.js';

export const EDITME_LABELS = { before: 'src/EDITME', after: 'Local/Makefile' };

const oneLine = (ctx: InstallContext) => labSettings(makefileOptions(ctx.o)).map((s) => `${s.name}${s.op}${s.value}`).join(' ');

export const makefile: Step<InstallContext> = {
  id: '1d-makefile',
  title: 'write Local/Makefile',
  async check(ctx) {
    if (!ctx.release) return withoutRelease(ctx);
    const { srcDir } = buildPaths(ctx.release.version);
    const editme = await readIfExists(path.join(srcDir, 'src/EDITME'));
    if (editme === undefined) return (await isUpToDate(ctx)) ? { done: true, detail: 'unchanged' } : { done: false };
    const wanted = await renderMakefile(editme, ctx.release.version, makefileOptions(ctx.o));
    return { done: (await readIfExists(path.join(srcDir, 'Local/Makefile'))) === wanted, detail: oneLine(ctx) };
  },
  async apply(ctx) {
    const { version } = releaseOf(ctx);
    const { srcDir } = buildPaths(version);
    const editmeFile = path.join(srcDir, 'src/EDITME');
    const editme = await readIfExists(editmeFile);
    if (editme === undefined) throw new LabError(`${editmeFile} is missing from the extracted source`);
    const text = await renderMakefile(editme, version, makefileOptions(ctx.o));
    await writeIfChanged(path.join(srcDir, 'Local/Makefile'), text);
    return {
      detail: oneLine(ctx),
      evidence: [
        { kind: 'text', label: 'settings', text: settingsTable(labSettings(makefileOptions(ctx.o))) },
        { kind: 'text', label: 'diff against src/EDITME', text: unifiedDiff(editme, text, EDITME_LABELS) },
      ],
    };
  },
};
