import { runAttached } from '../../system/run.js';
import { LabError } from '../../errors.js';
import type { LabState } from '../state.js';
import { CLIENT_NAME, DNS_NAME, findHost, mailHostName, names } from '../topology.js';
import { viewArgv } from './view.js';

/**
 * `labctl lab exec <host> -- <cmd>`: a command, or an interactive shell, in a lab host's view
 * with the terminal attached. Mail hosts get their full view (configure, /var/mail, /home);
 * the client and the DNS server only their namespace.
 */
export function labExecArgv(state: LabState, host: string, command: string[]): string[] {
  const cmd = command.length ? command : ['/bin/sh'];
  if (host === CLIENT_NAME) return ['netns', 'exec', names.clientNs, ...cmd];
  if (host === DNS_NAME) return ['netns', 'exec', names.dnsNs, ...cmd];
  const h = findHost(state.spec, host);
  if (!h) throw new LabError(`no lab host "${host}"`, `hosts: ${[...state.spec.hosts.map((x) => x.name), CLIENT_NAME, DNS_NAME].join(', ')}`);
  return viewArgv(h, mailHostName(h), cmd);
}

export function execInLab(state: LabState, host: string, command: string[]): Promise<number> {
  return runAttached('ip', labExecArgv(state, host, command));
}
