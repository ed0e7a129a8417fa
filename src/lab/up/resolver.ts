import { LabError } from '../../errors.js';
import type { Step } from '../../steps/types.js';
import { reverseZoneName } from '../services/bind.js';
import { parentZone } from '../services/dnssec.js';
import { resolverPid, startResolver } from '../services/unbound.js';
import type { LabSpec } from '../topology.js';
import type { UpContext } from './context.js';

/** unbound, validating from the trust anchors the DNS step found. */
export function resolverStep(spec: LabSpec): Step<UpContext> {
  return {
    id: 'resolver',
    title: 'dns: validating resolver (unbound, DNSSEC)',
    async check() {
      const pid = await resolverPid();
      return pid ? { done: true, detail: `unbound pid ${pid}` } : { done: false, detail: `unbound on ${spec.resolverAddress}: the lab's zones from BIND, validated from the trust anchor, AD bit set` };
    },
    async apply(ctx) {
      if (!ctx.trust) throw new LabError('dns: no trust anchor: the DNS step did not run');
      const parent = parentZone(spec);
      const stubs = [...(parent ? [parent] : spec.hosts.map((h) => h.domain)), reverseZoneName(spec.subnet)];
      const pid = await startResolver(spec, { anchors: ctx.trust.anchors, signedTops: ctx.trust.tops, stubs });
      return { detail: `unbound pid ${pid} on ${spec.resolverAddress}, trust anchor ${ctx.trust.anchors.map((a) => a.split(/\s+/).slice(0, 4).join(' ')).join('; ')}` };
    },
  };
}
