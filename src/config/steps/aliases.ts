/** Task 1.3c: postmaster@<domain> reaches a real user through /etc/aliases. */
import { ownership, readIfExists, removePath, writeAtomic } from '../../system/files.js';
import type { Step } from '../../steps/types.js';
import { ensurePostmasterAlias, withPostmaster } from '../aliases.js';
import type { HostPrepContext } from './context.js';

const what = (c: HostPrepContext) => `postmaster: ${c.o.model.postmaster} in ${c.files.aliasesFile}`;

export const aliases: Step<HostPrepContext> = {
  id: 'aliases',
  title: 'postmaster alias',
  async check(c) {
    const text = await readIfExists(c.files.aliasesFile!).catch(() => undefined);
    const done = text !== undefined && withPostmaster(text, c.o.model.postmaster) === text;
    return { done, detail: done ? what(c) : `set ${what(c)} (previous file kept as a .bak)` };
  },
  async apply(c) {
    const file = c.files.aliasesFile!;
    const before = await readIfExists(file);
    const owner = await ownership(file);
    const r = await ensurePostmasterAlias(file, c.o.model.postmaster);
    // A refused run puts the previous bytes back: the installed configuration reads this file.
    const undo = async () => {
      if (before === undefined) {
        await removePath(file);
        return `removed ${file}, which this run created`;
      }
      await writeAtomic(file, before, owner ? { mode: owner.mode & 0o7777, uid: owner.uid, gid: owner.gid } : {});
      return `${file} put back as it was`;
    };
    return { status: r.changed ? 'changed' : 'ok', detail: `${what(c)}${r.backup ? `; previous kept as ${r.backup}` : ''}`, undo };
  },
};
