import { run } from './run.js';

/** True when the name resolves through NSS (passwd or group database). */
async function inDatabase(db: 'passwd' | 'group', name: string): Promise<boolean> {
  return (await run('getent', [db, name], { allowFailure: true })).exitCode === 0;
}

export const userExists = (name: string) => inDatabase('passwd', name);
export const groupExists = (name: string) => inDatabase('group', name);

/** Numeric uid/gid of a user, from NSS. */
export async function userIds(name: string): Promise<{ uid: number; gid: number } | undefined> {
  const r = await run('getent', ['passwd', name], { allowFailure: true });
  if (r.exitCode !== 0) return undefined;
  const f = r.stdout.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

export async function groupId(name: string): Promise<number | undefined> {
  const r = await run('getent', ['group', name], { allowFailure: true });
  return r.exitCode === 0 ? Number(r.stdout.split(':')[2]) : undefined;
}

/**
 * A system user and its group for a daemon (write-up 1d: groupadd -r exim; useradd -r -g exim),
 * with no login shell. Returns whether anything was created.
 */
export async function ensureSystemUser(user: string, group: string): Promise<{ createdUser: boolean; createdGroup: boolean }> {
  const createdGroup = !(await groupExists(group));
  if (createdGroup) await run('groupadd', ['--system', group]);
  const createdUser = !(await userExists(user));
  if (createdUser) {
    await run('useradd', ['--system', '--gid', group, '--no-create-home', '--home-dir', '/var/spool/exim', '--shell', '/usr/sbin/nologin', user]);
  }
  return { createdUser, createdGroup };
}
