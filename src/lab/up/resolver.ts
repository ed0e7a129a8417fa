import { LabError } from '../../errors.js';
import type { Step } from '../../steps/types.js';
import { resolverPid, startResolver } from '../services/unbound.js';
import type { LabSpec } from '../topology.js';
import type { UpContext } from './context.js';
import { driftOutcome, resolverDrift, resolverInputs } from './expected.js';

/** unbound, validating from the trust anchors the DNS step found. */
export function resolverStep(spec: LabSpec): Step<UpContext> {
  return {
    id: 'resolver',
    title: 'dns: validating resolver (unbound, DNSSEC)',
    async check() {
      const pid = await resolverPid();
      if (!pid) return { done: false, detail: `unbound on ${spec.resolverAddress}: the lab's zones from BIND, validated from the trust anchor, AD bit set` };
      return driftOutcome(`unbound pid ${pid}`, 'its trust anchors and unbound.conf', 'rewrite them and reload unbound', () => resolverDrift(spec));
    },
    async apply(ctx) {
      if (!ctx.trust) throw new LabError('dns: no trust anchor: the DNS step did not run');
      const pid = await startResolver(spec, resolverInputs(spec, ctx.trust));
      return { detail: `unbound pid ${pid} on ${spec.resolverAddress}, trust anchor ${ctx.trust.anchors.map((a) => a.split(/\s+/).slice(0, 4).join(' ')).join('; ')}` };
    },
  };
}
