import type { Command } from 'commander';
import { serviceControl, type ServiceAction } from '../system/service.js';
import { usageError } from '../errors.js';
import { locked } from './locked.js';

const ACTIONS: ServiceAction[] = ['start', 'stop', 'restart', 'reload', 'status'];

function parseAction(action: string): ServiceAction {
  if (!ACTIONS.includes(action as ServiceAction)) throw usageError(`unknown service action "${action}"`, `use one of ${ACTIONS.join(', ')}`);
  return action as ServiceAction;
}

export function registerService(program: Command): void {
  program
    .command('service')
    .description('start, stop, restart, reload or show the Exim daemon (systemd or pid file)')
    .argument('<action>', ACTIONS.join('|'))
    .action(locked((action: string) => (action === 'status' ? 'shared' : 'exclusive'), parseAction, async (action) => {
      const st = await serviceControl(action);
      console.log(st.running ? `exim: running (pid ${st.pid}, via ${st.manager})` : `exim: not running (via ${st.manager})`);
      if (action === 'status' && !st.running) process.exitCode = 1;
    }));
}
