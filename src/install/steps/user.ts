/** The system user and group Exim runs as, without a login shell. */
import { ensureSystemUser, userExists } from '../../system/accounts.js';
import type { Step } from '../../steps/types.js';
import type { InstallContext } from '../context.js';

export const user: Step<InstallContext> = {
  id: 'exim-user',
  title: (ctx) => `system user and group ${ctx.o.eximUser}`,
  async check(ctx) {
    return (await userExists(ctx.o.eximUser)) ? { done: true } : { done: false, detail: `create system user/group ${ctx.o.eximUser} (no login shell)` };
  },
  async apply(ctx) {
    await ensureSystemUser(ctx.o.eximUser, ctx.o.eximUser);
    return { detail: 'created (no login shell)' };
  },
};
