import { password as askPassword } from '@inquirer/prompts';
import { promises as fs } from 'node:fs';
import { usageError } from '../../errors.js';
import { DEFAULT_PASSWD_FILE, checkLoginName, checkPassword } from '../../config/passwd.js';
import { deleteLogin, readLogins, setLogin } from '../../config/passwd-store.js';
import { safePath } from '../../safe-names.js';
import { locked } from '../locked.js';

export interface UserFlags {
  passwordFile?: string;
}

/** The password: the first line of --password-file, or asked twice on a terminal. */
async function readPassword(name: string, flags: UserFlags): Promise<string> {
  if (flags.passwordFile !== undefined) {
    const text = await fs.readFile(flags.passwordFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw usageError(`--password-file ${flags.passwordFile}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    });
    return checkPassword(text.split('\n')[0]!.replace(/\r$/, ''));
  }
  if (!process.stdin.isTTY) throw usageError('no terminal to ask the password on', `give it with --password-file FILE (its first line)`);
  const first = await askPassword({ message: `Password for ${name}:`, mask: '*', validate: (v) => (v.length >= 8 ? true : 'at least 8 characters') });
  const again = await askPassword({ message: 'Again:', mask: '*' });
  if (first !== again) throw usageError('the two passwords differ', 'run the command again');
  return checkPassword(first);
}

const parse = (name: string, flags: UserFlags) => {
  checkLoginName(name);
  if (flags.passwordFile !== undefined) safePath('--password-file', flags.passwordFile);
  return { name, flags };
};


const setAction = (mode: 'add' | 'passwd') =>
  locked('exclusive', parse, async ({ name, flags }) => {
    const password = await readPassword(name, flags);
    await setLogin(name, password, mode);
    console.log(`${mode === 'add' ? 'added' : 'changed'} the login ${name} in ${DEFAULT_PASSWD_FILE}`);
  });

/** `labctl user add NAME`, `labctl user passwd NAME`. */
export const userAddAction = setAction('add');
export const userPasswdAction = setAction('passwd');

/** `labctl user remove NAME`. */
export const userRemoveAction = locked('exclusive', (name: string) => checkLoginName(name), async (name) => {
  if (!(await deleteLogin(name))) throw usageError(`user ${name} has no login`, 'the logins: labctl user list');
  console.log(`removed the login ${name}`);
});

/** `labctl user list`. */
export const userListAction = locked('shared', async () => {
  const logins = await readLogins();
  console.log(logins.length ? logins.map((l) => l.name).join('\n') : 'no logins yet (labctl user add NAME)');
});
