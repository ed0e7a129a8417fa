import type { Command } from 'commander';
import { lazy } from './lazy.js';

export function registerUninstall(program: Command): void {
  program
    .command('uninstall')
    .description("stop and remove labctl's Exim: the daemon and its unit, the labctl-exim package (sendmail links, apt's MTA), the installed programs; keeps the configuration, the spool (queued mail, logs), the mailboxes and labctl's caches")
    .option('--dry-run', 'print the plan and change nothing; no root needed')
    .option('--json', 'print the step results and what is kept as JSON')
    .action(lazy(() => import('./actions/uninstall.js'), 'uninstallAction'));
}
