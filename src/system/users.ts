import { LabError } from '../errors.js';
import { run } from './run.js';

/** Accounts as NSS sees them (getent), so every passwd/group source counts. */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export async function lookupUser(name: string): Promise<PasswdEntry | undefined> {
  const r = await run('getent', ['passwd', name], { allowFailure: true });
  if (r.exitCode !== 0) return undefined;
  const f = r.stdout.trim().split('\n')[0]!.split(':');
  return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]!, shell: f[6]! };
}

export async function groupId(name: string): Promise<number | undefined> {
  const r = await run('getent', ['group', name], { allowFailure: true });
  return r.exitCode === 0 ? Number(r.stdout.split(':')[2]) : undefined;
}

export const userExists = async (name: string) => (await lookupUser(name)) !== undefined;

export async function requireGroupId(name: string): Promise<number> {
  const gid = await groupId(name);
  if (gid === undefined) throw new LabError(`group "${name}" does not exist`, name === 'exim' ? 'run labctl install first (it creates the exim user and group)' : `create it with groupadd ${name}`);
  return gid;
}

export async function requireUser(name: string): Promise<PasswdEntry> {
  const user = await lookupUser(name);
  if (!user) throw new LabError(`user "${name}" does not exist`, name === 'exim' ? 'run labctl install first (it creates the exim user and group)' : `create it with useradd ${name}`);
  return user;
}

/**
 * A system user and its group for a daemon (write-up 1d: groupadd -r exim; useradd -r -g exim),
 * with no login shell. Returns whether anything was created.
 */
export async function ensureSystemUser(user: string, group: string): Promise<{ createdUser: boolean; createdGroup: boolean }> {
  const createdGroup = (await groupId(group)) === undefined;
  if (createdGroup) await run('groupadd', ['--system', group]);
  const createdUser = !(await userExists(user));
  if (createdUser) {
    await run('useradd', ['--system', '--gid', group, '--no-create-home', '--home-dir', '/var/spool/exim', '--shell', '/usr/sbin/nologin', user]);
  }
  return { createdUser, createdGroup };
}
