import type { Command } from 'commander';
import { withHostOptions } from './host-options.js';
import { lazy } from './lazy.js';

const withCommon = (c: Command) => withHostOptions(c.option('--json', 'print JSON'));
const load = () => import('./actions/queue.js');

export function registerQueue(program: Command): void {
  const queue = program
    .command('queue')
    .description("Exim's queue as the lab needs to read it: each message's age, next retry time and rule, and last failure (exim -bp, exinext, exim -brt, exim -Mvl)")
    .addHelpText('after', '\nWithout a subcommand: list.\nExit status: 0 done, 1 Exim failed (or flush delivered nothing), 2 bad message id, domain or host.');

  withCommon(queue.command('list', { isDefault: true }).description('the queue: each message with its next retry time (exinext), retry rule (exim -brt) and last failure')).action(
    lazy(load, 'queueListAction'),
  );

  withCommon(queue.command('show').description('one queued message: its headers (exim -Mvh), body (-Mvb) and message log (-Mvl)').argument('<id>', 'Exim message id')).action(
    lazy(load, 'queueShowAction'),
  );

  withCommon(queue.command('why').description('why a message is still queued and when Exim will try it again, in one paragraph').argument('<id>', 'Exim message id')).action(
    lazy(load, 'queueWhyAction'),
  );

  withCommon(
    queue
      .command('flush')
      .description('deliver now, past the retry times: every message (exim -qff) or those for one domain (exim -Rff DOMAIN)')
      .option('--domain <domain>', 'only messages with a recipient in this domain'),
  ).action(lazy(load, 'queueFlushAction'));
}
