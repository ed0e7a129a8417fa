import { usageError } from '../../errors.js';
import { loadState } from '../../lab/state.js';
import { findHost, mailHostName } from '../../lab/topology.js';
import { EXIM_BIN, hostView } from '../../lab/hosts/view.js';
import { safePath } from '../../safe-names.js';
import { rootView, type EximHost } from '../../system/hostview.js';
import { loadServiceSettings } from '../../state/service.js';

/**
 * Which Exim a reading command (queue, logs) looks at: the machine's, a lab host's through its
 * view (--lab-host st18), or a second Exim on its own configuration (--config FILE, exim -C).
 */
export interface HostFlags {
  labHost?: string;
  config?: string;
}

/** The flags' shape, checked before the lock is asked for (a bad one exits 2). */
export function checkHostFlags<F extends HostFlags>(flags: F): F {
  if (flags.config !== undefined && flags.labHost !== undefined) throw usageError('--config and --lab-host do not go together', 'a lab host has its own configuration');
  if (flags.config !== undefined) safePath('--config', flags.config);
  if (flags.labHost !== undefined && !/^[a-z][a-z0-9-]{0,30}$/.test(flags.labHost)) throw usageError(`--lab-host "${flags.labHost}" is not a lab host name`, 'use a name such as st14 or st18');
  return flags;
}

export async function eximHost(flags: HostFlags): Promise<EximHost & { queueInterval: string }> {
  if (flags.labHost === undefined) {
    const s = await loadServiceSettings();
    return { view: rootView, exim: s.binary, queueInterval: s.queueInterval, config: flags.config };
  }
  const state = await loadState();
  if (!state) throw usageError(`--lab-host ${flags.labHost}: the lab is not up`, 'run labctl lab up first');
  const host = findHost(state.spec, flags.labHost);
  if (!host) throw usageError(`--lab-host: no lab mail host "${flags.labHost}"`, `hosts: ${state.spec.hosts.map((h) => h.name).join(', ')}`);
  return { view: hostView(host, mailHostName(host)), exim: EXIM_BIN, queueInterval: state.spec.queueInterval, name: host.name };
}
