/**
 * What a configuration must pass around its swap, for the machine and for the lab's hosts alike:
 * the addresses Exim routes (-bt) before the new file goes in, and the daemon's greeting after it
 * was told to read it. The configure steps and the lab import this; it imports neither.
 */
import { LabError } from '../errors.js';
import { PORTS } from '../paths.js';
import { waitForGreeting } from '../system/smtp-probe.js';
import type { HostModel } from './model.js';

/** Test addresses for the routing check: postmaster and the first local user. */
export const testAddresses = (m: HostModel) => [`postmaster@${m.domain}`, `${m.users[0]}@${m.domain}`];

/**
 * Confirms the daemon serves after a reload or restart: it greets on port 25. A HUP with a
 * configuration the daemon cannot run (a port it cannot bind, say) kills it; its pid may
 * linger for a moment, its greeting does not.
 */
export async function confirmDaemonServing(host = '127.0.0.1', port: number = PORTS.smtp, timeoutMs = 5000): Promise<void> {
  if (!(await waitForGreeting(host, port, timeoutMs))) {
    throw new LabError(`the Exim daemon does not answer on port ${port} after the reload`, 'see the panic log');
  }
}
