import type { Command } from 'commander';
import { withHostOptions } from './host-options.js';
import { lazy } from './lazy.js';

export function registerLogs(program: Command): void {
  withHostOptions(
    program
      .command('logs')
      .description("Exim's logs: the main log (default), the reject log (--reject), the panic log (--panic); one message's lines with --id (exigrep)")
      .option('--id <id>', "only this message's lines (exigrep ID), in each log asked for")
      .option('--main', 'the main log (the default when no log is named)')
      .option('--reject', 'the reject log: every refused connection, sender or recipient, with the headers Exim saw')
      .option('--panic', 'the panic log: Exim writes there only when something is badly wrong (verify: paniclog-empty)')
      .option('--lines <n>', 'how many of the last lines of each log (not with --id: all its lines)', '40')
      .option('--json', 'print JSON'),
  )
    .addHelpText('after', '\nExit status: 0 done, 1 Exim failed, 2 bad flag or message id.')
    .action(lazy(() => import('./actions/logs.js'), 'logsAction'));
}
