/** Task 1.3a: the local users that receive mail, each with a home directory. */
import { ensureUser, userReady } from '../../system/accounts.js';
import type { Step } from '../../steps/types.js';
import type { ConfigureContext } from './context.js';

export const users: Step<ConfigureContext> = {
  id: 'users',
  title: 'local users',
  async check({ o }) {
    const missing: string[] = [];
    for (const u of o.model.users) if (!(await userReady(u))) missing.push(u);
    return missing.length ? { done: false, detail: `create ${missing.join(', ')} with a home directory (useradd)` } : { done: true, detail: o.model.users.join(', ') };
  },
  async apply({ o }) {
    const changes: string[] = [];
    for (const u of o.model.users) {
      const c = await ensureUser(u);
      if (c !== 'ok') changes.push(`${u} ${c}`);
    }
    return { detail: changes.join(', ') };
  },
};
