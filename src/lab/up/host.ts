import { errorMessage, EXIT, LabError } from '../../errors.js';
import type { Step, StepRecord } from '../../steps/types.js';
import { checkHost } from '../hosts/check.js';
import { daemonPid } from '../hosts/daemon.js';
import { prepareHost } from '../hosts/prepare.js';
import { mailHostName, type LabMailHostSpec, type LabSpec } from '../topology.js';
import type { UpContext } from './context.js';

/** Runs `fn`; an error it throws names the host (a model the host's spec cannot make, a file it cannot write). */
export async function naming<T>(h: LabMailHostSpec, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const msg = errorMessage(err);
    if (msg.startsWith(`${h.name}:`)) throw err;
    throw new LabError(`${h.name}: ${msg}`, err instanceof LabError ? err.hint : undefined, err instanceof LabError ? err.exitCode : EXIT.failure);
  }
}

/**
 * A mail host's view and configuration (src/lab/hosts/prepare.ts, with configure's own users,
 * spool and aliases steps); its check reads the host's files (src/lab/hosts/check.ts). An error names the host.
 */
export function hostStep(spec: LabSpec, h: LabMailHostSpec): Step<UpContext> {
  return {
    id: `host-${h.name}`,
    title: `${h.name}: configure (model + template)`,
    async check() {
      const c = await naming(h, () => checkHost(spec, h));
      // On a running lab, lab up re-applies the step in place: the daemon is told to re-read its configure.
      const pid = c.done || c.unknown ? undefined : await daemonPid(h);
      return pid ? { ...c, detail: `${c.detail}; lab up would tell its Exim daemon (pid ${pid}) to re-read it` } : c;
    },
    async apply(ctx) {
      const host = await naming(h, () => prepareHost(spec, h));
      ctx.hosts.push(host);
      // What configure's own steps did in the host's view (users, mail spool, postmaster alias).
      const prepared: StepRecord[] = host.prepared ?? [];
      const steps = prepared.map((r) => `${r.title} ${r.status === 'changed' ? 'made' : 'as it was'}`).join(', ');
      return { detail: `${mailHostName(h)} ${h.address}; ${steps}` };
    },
  };
}
