/**
 * The programs make install put in the recorded BIN_DIRECTORY (src/uninstall/programs.ts names
 * them), the directory when nothing else is in it, and install.json last: verify and install then
 * see no labctl Exim, and a run interrupted before install.json went finds the directory again.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { installStateFile } from '../../state/install.js';
import { exists, removePath } from '../../system/files.js';
import type { Step } from '../../steps/types.js';
import type { UninstallContext } from '../context.js';
import { splitPrograms } from '../programs.js';

async function found(ctx: UninstallContext) {
  const names = await fs.readdir(ctx.binDirectory).catch(() => undefined);
  const { programs, others } = splitPrograms(names ?? []);
  return { programs, others, emptyDir: names !== undefined && names.length === 0, record: await exists(installStateFile()) };
}

export const programs: Step<UninstallContext> = {
  id: 'programs',
  title: 'Exim programs and install.json',
  async check(ctx) {
    const f = await found(ctx);
    const kept = f.others.length ? `; left alone (not make install's): ${f.others.join(', ')}` : '';
    if (!f.programs.length && !f.emptyDir && !f.record) return { done: true, detail: `no Exim programs in ${ctx.binDirectory}, no install.json${kept}` };
    const what = [
      f.programs.length ? `${f.programs.length} programs in ${ctx.binDirectory} (${f.programs.slice(0, 4).join(', ')}${f.programs.length > 4 ? ', ...' : ''})` : '',
      f.emptyDir ? `the empty ${ctx.binDirectory}` : '',
      f.record ? installStateFile() : '',
    ].filter(Boolean);
    return { done: false, detail: `remove ${what.join(', ')}${kept}` };
  },
  async apply(ctx) {
    const f = await found(ctx);
    for (const name of f.programs) await removePath(path.join(ctx.binDirectory, name));
    const dirGone = !f.others.length && (await exists(ctx.binDirectory));
    if (dirGone) await removePath(ctx.binDirectory);
    await removePath(installStateFile());
    ctx.installed = undefined;
    const kept = f.others.length ? `; left alone: ${f.others.join(', ')}` : '';
    return { detail: `${f.programs.length} programs removed from ${ctx.binDirectory}${dirGone ? ' (and the directory)' : ''}, ${installStateFile()} removed${kept}` };
  },
};
