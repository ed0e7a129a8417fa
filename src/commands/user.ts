import type { Command } from 'commander';
import { lazy } from './lazy.js';

const load = () => import('./actions/user.js');

export function registerUser(program: Command): void {
  const user = program
    .command('user')
    .description("logins for authenticated submission (587 STARTTLS, 465 TLS): SHA-512 crypt hashes in /usr/exim/passwd, checked by Exim's plaintext authenticators");

  user
    .command('add')
    .description('give NAME a login (it asks for the password, or reads --password-file)')
    .argument('<name>', 'the login name a mail client gives (e.g. exim-test)')
    .option('--password-file <file>', 'read the password from the first line of FILE instead of asking')
    .action(lazy(load, 'userAddAction'));

  user
    .command('passwd')
    .description("change NAME's password (it asks, or reads --password-file)")
    .argument('<name>', 'the login name')
    .option('--password-file <file>', 'read the password from the first line of FILE instead of asking')
    .action(lazy(load, 'userPasswdAction'));

  user.command('remove').description("remove NAME's login").argument('<name>', 'the login name').action(lazy(load, 'userRemoveAction'));

  user.command('list').description('the login names (never the hashes)').action(lazy(load, 'userListAction'));
}
