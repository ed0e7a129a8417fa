import { readIfExists, writeAtomic } from '../system/files.js';
import { requireGroupId } from '../system/accounts.js';
import { sha512Crypt } from '../system/password-hash.js';
import { DEFAULT_PASSWD_FILE, checkLoginName, checkPassword, parsePasswd, removeLogin, setPassword, type PasswdLine } from './passwd.js';

/**
 * Reading and writing the submission password file (src/config/passwd.ts): whole or not at all,
 * mode 0640, root:exim, so the SMTP receiving process (user exim) can check a login and no other
 * user can read the hashes.
 */
export async function readLogins(file = DEFAULT_PASSWD_FILE): Promise<PasswdLine[]> {
  return parsePasswd((await readIfExists(file)) ?? '');
}

async function write(file: string, text: string, group: string): Promise<void> {
  await writeAtomic(file, text, { mode: 0o640, uid: 0, gid: await requireGroupId(group) });
}

export async function setLogin(name: string, password: string, mode: 'add' | 'passwd', opts: { file?: string; group?: string } = {}): Promise<void> {
  const file = opts.file ?? DEFAULT_PASSWD_FILE;
  checkLoginName(name);
  checkPassword(password);
  // Refuse before hashing: a second add (or a passwd of nobody) changes nothing.
  const before = (await readIfExists(file)) ?? '';
  setPassword(before, name, '$6$x$' + 'x'.repeat(86), mode);
  const hash = await sha512Crypt(password);
  await write(file, setPassword(before, name, hash, mode), opts.group ?? 'exim');
}

export async function deleteLogin(name: string, opts: { file?: string; group?: string } = {}): Promise<boolean> {
  const file = opts.file ?? DEFAULT_PASSWD_FILE;
  const before = (await readIfExists(file)) ?? '';
  if (!parsePasswd(before).some((l) => l.name === name)) return false;
  await write(file, removeLogin(before, name), opts.group ?? 'exim');
  return true;
}
