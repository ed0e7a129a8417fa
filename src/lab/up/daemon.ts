import type { Step } from '../../steps/types.js';
import { daemonPid, listeningPorts, startDaemon } from '../hosts/daemon.js';
import { EXIM_BIN } from '../hosts/view.js';
import type { LabMailHostSpec, LabSpec } from '../topology.js';
import type { UpContext } from './context.js';

/** A mail host's Exim daemon, in its own view, queue run every spec.queueInterval. */
export function daemonStep(spec: LabSpec, h: LabMailHostSpec): Step<UpContext> {
  return {
    id: `daemon-${h.name}`,
    title: `${h.name}: Exim daemon`,
    async check() {
      const pid = await daemonPid(h);
      return pid ? { done: true, detail: `pid ${pid}` } : { done: false, detail: `${EXIM_BIN} -bd -q${spec.queueInterval} in ${h.name}'s view` };
    },
    async apply() {
      const pid = await startDaemon(h, spec.queueInterval);
      return { detail: `pid ${pid}, ports ${(await listeningPorts(h)).join(',')}` };
    },
  };
}
