/** The mail spool as Debian keeps it (root:mail 2775), so local delivery can make its lock file. */
import { MAIL_SPOOL } from '../../paths.js';
import { ensureMailSpool, mailSpoolReady } from '../../system/accounts.js';
import type { Step } from '../../steps/types.js';
import type { HostPrepContext } from './context.js';

const dir = (c: HostPrepContext) => c.o.mailSpool ?? MAIL_SPOOL;

export const spool: Step<HostPrepContext> = {
  id: 'mail-spool',
  title: 'mail spool',
  async check(c) {
    return { done: await mailSpoolReady(dir(c)), detail: `${dir(c)} root:mail 2775` };
  },
  async apply(c) {
    return { status: (await ensureMailSpool(dir(c))) ? 'changed' : 'ok', detail: `${dir(c)} root:mail 2775` };
  },
};
