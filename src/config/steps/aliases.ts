/** Task 1.3c: postmaster@<domain> reaches a real user through /etc/aliases. */
import { readIfExists } from '../../system/files.js';
import type { Step } from '../../steps/types.js';
import { ensurePostmasterAlias, withPostmaster } from '../aliases.js';
import type { ConfigureContext } from './context.js';

const what = (c: ConfigureContext) => `postmaster: ${c.o.model.postmaster} in ${c.files.aliasesFile}`;

export const aliases: Step<ConfigureContext> = {
  id: 'aliases',
  title: 'postmaster alias',
  async check(c) {
    const text = await readIfExists(c.files.aliasesFile!).catch(() => undefined);
    const done = text !== undefined && withPostmaster(text, c.o.model.postmaster) === text;
    return { done, detail: done ? what(c) : `set ${what(c)} (previous file kept as a .bak)` };
  },
  async apply(c) {
    const r = await ensurePostmasterAlias(c.files.aliasesFile!, c.o.model.postmaster);
    return { status: r.changed ? 'changed' : 'ok', detail: `${what(c)}${r.backup ? `; previous kept as ${r.backup}` : ''}` };
  },
};
