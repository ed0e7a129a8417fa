import { SERVICE_ACTIONS, type ServiceAction } from '../../system/service-actions.js';
import { controlService } from '../../state/service.js';
import { usageError } from '../../errors.js';
import { locked } from '../locked.js';

function parseAction(action: string): ServiceAction {
  if (!(SERVICE_ACTIONS as readonly string[]).includes(action)) throw usageError(`unknown service action "${action}"`, `use one of ${SERVICE_ACTIONS.join(', ')}`);
  return action as ServiceAction;
}

/** `labctl service ACTION`: status shares the lock, the others change the daemon and hold it alone. */
export const serviceAction = locked((action: string) => (action === 'status' ? 'shared' : 'exclusive'), parseAction, async (action) => {
  const st = await controlService(action);
  console.log(st.running ? `exim: running (pid ${st.pid}, via ${st.manager})` : `exim: not running (via ${st.manager})`);
  if (action === 'status' && !st.running) process.exitCode = 1;
});
