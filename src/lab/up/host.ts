import { errorMessage, EXIT, LabError } from '../../errors.js';
import type { Step } from '../../steps/types.js';
import { prepareHost } from '../hosts/prepare.js';
import { mailHostName, type LabMailHostSpec, type LabSpec } from '../topology.js';
import type { UpContext } from './context.js';

/** A mail host's view and configuration (src/lab/hosts/prepare.ts); an error names the host. */
export function hostStep(spec: LabSpec, h: LabMailHostSpec): Step<UpContext> {
  return {
    id: `host-${h.name}`,
    title: `${h.name}: configure (model + template)`,
    async check() {
      return { done: false, detail: `${mailHostName(h)} ${h.address}: its own configure, spool, mailboxes and keys, checked like labctl configure` };
    },
    async apply(ctx) {
      try {
        ctx.hosts.push(await prepareHost(spec, h));
      } catch (err) {
        const msg = errorMessage(err);
        if (msg.startsWith(`${h.name}:`)) throw err;
        throw new LabError(`${h.name}: ${msg}`, err instanceof LabError ? err.hint : undefined, err instanceof LabError ? err.exitCode : EXIT.failure);
      }
      return { detail: `${mailHostName(h)} ${h.address}` };
    },
  };
}
