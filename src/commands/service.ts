import type { Command } from 'commander';
import { lazy } from './lazy.js';

export const SERVICE_ACTIONS = ['start', 'stop', 'restart', 'reload', 'status'] as const;

export function registerService(program: Command): void {
  program
    .command('service')
    .description('start, stop, restart, reload or show the Exim daemon (systemd or pid file)')
    .argument('<action>', SERVICE_ACTIONS.join('|'))
    .action(lazy(() => import('./actions/service.js'), 'serviceAction'));
}
