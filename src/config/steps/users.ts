/** Task 1.3a: the local users that receive mail, each with a home directory (on the machine, or in a lab host's view). */
import type { Step } from '../../steps/types.js';
import type { HostPrepContext } from './context.js';

export const users: Step<HostPrepContext> = {
  id: 'users',
  title: 'local users',
  async check({ o, accounts }) {
    const missing: string[] = [];
    for (const u of o.model.users) if (!(await accounts.ready(u))) missing.push(u);
    return missing.length ? { done: false, detail: `create ${missing.join(', ')} with a home directory (${accounts.how})` } : { done: true, detail: o.model.users.join(', ') };
  },
  async apply({ o, accounts }) {
    const changes: string[] = [];
    for (const u of o.model.users) {
      const c = await accounts.ensure(u);
      if (c !== 'ok') changes.push(`${u} ${c}`);
    }
    return { detail: changes.join(', ') };
  },
};
