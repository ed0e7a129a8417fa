/**
 * Accounts: lookups as NSS sees them (getent), the exim system user, and the local users that
 * receive lab mail with their spool directory. One module for every account labctl reads or makes.
 */
import { promises as fs } from 'node:fs';
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

/** The accounts that receive lab mail (write-up 1.3a: adduser exim-test) and their spool directory. */
export type UserChange = 'created' | 'home-created' | 'ok';

/**
 * A local user with an existing home directory (Exim defers routing for a user whose home is
 * missing). Creates the user with useradd, or only the home directory when the user exists.
 */
export async function ensureUser(name: string): Promise<UserChange> {
  const existing = await lookupUser(name);
  if (!existing) {
    await run('useradd', ['--create-home', '--shell', '/bin/bash', name]);
    return 'created';
  }
  if (await fs.stat(existing.home).then((s) => s.isDirectory(), () => false)) return 'ok';
  await fs.mkdir(existing.home, { recursive: true, mode: 0o750 });
  await fs.chown(existing.home, existing.uid, existing.gid);
  await fs.chmod(existing.home, 0o750);
  return 'home-created';
}

/**
 * The mail spool directory as Debian keeps it: root:mail, mode 2775, so a delivery running as
 * the user with group mail can create its lock file. Returns whether anything changed.
 */
export async function ensureMailSpool(dir: string): Promise<boolean> {
  const mailGid = await requireGroupId('mail');
  let changed = false;
  let st = await fs.stat(dir).catch(() => undefined);
  if (!st) {
    await fs.mkdir(dir, { recursive: true });
    st = await fs.stat(dir);
    changed = true;
  }
  if (!st.isDirectory()) throw new LabError(`${dir} exists but is not a directory`, 'move it away and run again');
  if (st.uid !== 0 || st.gid !== mailGid) {
    await fs.chown(dir, 0, mailGid);
    changed = true;
  }
  if ((st.mode & 0o7777) !== 0o2775) {
    await fs.chmod(dir, 0o2775);
    changed = true;
  }
  return changed;
}

/**
 * Where the local users that receive mail live: the machine's own accounts (machineAccounts), or
 * a lab host's view (src/lab/hosts/accounts.ts). configure's users step works on either.
 */
export interface LocalAccounts {
  /** Read-only: whether `name` exists with a home directory (what ensure would leave alone). */
  ready(name: string): Promise<boolean>;
  ensure(name: string): Promise<UserChange>;
  /** How ensure makes a user, for a plan's text: "useradd", or the file it writes. */
  how: string;
}

/** Read-only: whether `name` exists with a home directory (what ensureUser would leave alone). */
export async function userReady(name: string): Promise<boolean> {
  const u = await lookupUser(name);
  return !!u && (await fs.stat(u.home).then((s) => s.isDirectory(), () => false));
}

/** Read-only: whether the spool already is root:mail 2775 (what ensureMailSpool would leave alone). */
export async function mailSpoolReady(dir: string): Promise<boolean> {
  const st = await fs.stat(dir).catch(() => undefined);
  const mailGid = await requireGroupId('mail').catch(() => undefined);
  return !!st && st.isDirectory() && st.uid === 0 && st.gid === mailGid && (st.mode & 0o7777) === 0o2775;
}

/** The machine's own accounts (getent, useradd). */
export const machineAccounts: LocalAccounts = { ready: userReady, ensure: ensureUser, how: 'useradd' };
