/** The daemon runs, on this configuration and with the model's -q interval. */
import { LabError } from '../../errors.js';
import { controlService, saveServiceSettings } from '../../state/service.js';
import { serviceStatus } from '../../system/service.js';
import type { Step } from '../../steps/types.js';
import type { ConfigureContext } from './context.js';

export const daemon: Step<ConfigureContext> = {
  id: 'daemon',
  title: 'Exim daemon',
  async check(c) {
    const st = await serviceStatus(c.wanted);
    if (st.running && !c.intervalChanged && !c.daemonHandled) return { done: true, detail: `running, pid ${st.pid}` };
    return { done: false, detail: st.running ? `restart with -q${c.o.model.queueInterval}` : `start with -q${c.o.model.queueInterval}` };
  },
  async apply(c) {
    if (c.intervalChanged) await saveServiceSettings(c.wanted);
    if (c.daemonHandled) {
      const st = await serviceStatus(c.wanted);
      if (!st.running) throw new LabError('the Exim daemon is not running after the reload', 'run labctl service start and see the panic log');
      return { detail: c.intervalChanged ? `restarted with -q${c.o.model.queueInterval}, pid ${st.pid}` : `reloaded, pid ${st.pid}` };
    }
    const st = await serviceStatus(c.wanted);
    if (c.intervalChanged && st.running) return { detail: `restarted with -q${c.o.model.queueInterval}, pid ${(await controlService('restart', c.wanted)).pid}` };
    if (!st.running) return { detail: `started, pid ${(await controlService('start', c.wanted)).pid}` };
    return { status: 'ok', detail: `running, pid ${st.pid}` };
  },
};
