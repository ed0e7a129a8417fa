/** The system user and group Exim runs as, without a login shell. */
import { ensureSystemUser, groupId, lookupUser } from '../../system/accounts.js';
import type { Step } from '../../steps/types.js';
import type { InstallContext } from '../context.js';

export const user: Step<InstallContext> = {
  id: 'exim-user',
  title: (ctx) => `system user and group ${ctx.o.eximUser}`,
  async check(ctx) {
    // Both asked at once: two getent runs side by side.
    const [u, gid] = await Promise.all([lookupUser(ctx.o.eximUser), groupId(ctx.o.eximUser)]);
    if (!u) return { done: false, detail: `create system user/group ${ctx.o.eximUser} (no login shell)` };
    const text = `user ${u.name}: uid ${u.uid}, gid ${u.gid}, home ${u.home}, shell ${u.shell}\ngroup ${ctx.o.eximUser}: ${gid === undefined ? 'absent' : `gid ${gid}`}`;
    return { done: true, detail: `${u.name} exists (uid ${u.uid})`, evidence: [{ kind: 'text', label: 'the account as NSS sees it (getent)', text }] };
  },
  async apply(ctx) {
    await ensureSystemUser(ctx.o.eximUser, ctx.o.eximUser);
    return { detail: 'created (no login shell)' };
  },
};
