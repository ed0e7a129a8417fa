import { Argument, type Command } from 'commander';
import { SERVICE_ACTIONS } from '../system/service-actions.js';
import { lazy } from './lazy.js';

export function registerService(program: Command): void {
  program
    .command('service')
    .description('start, stop, restart, reload or show the Exim daemon (systemd or pid file)')
    // commander refuses any other action with exit 2, before the action (and its lock) loads.
    .addArgument(new Argument('<action>', SERVICE_ACTIONS.join('|')).choices(SERVICE_ACTIONS))
    .action(lazy(() => import('./actions/service.js'), 'serviceAction'));
}
