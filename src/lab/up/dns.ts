import { LabError } from '../../errors.js';
import { waitUntil } from '../../system/procs.js';
import type { Step } from '../../steps/types.js';
import { dnsFiles, dnsServerPid, query, reloadDnsServer, serial, startDnsServer, writeDnsServer, writeZone, type LabZone } from '../services/bind.js';
import { dsRecords, parentZone } from '../services/dnssec.js';
import { labZones, parentLabZone } from '../services/zones.js';
import { names, type LabSpec } from '../topology.js';
import type { UpContext } from './context.js';
import { dnsDrift, driftOutcome, trustAnchors } from './expected.js';

/** BIND with every lab zone, signed; the trust anchors it leaves in the context are the resolver step's. */
export function dnsStep(spec: LabSpec): Step<UpContext> {
  return {
    id: 'dns',
    title: 'dns: BIND authoritative server',
    async check() {
      const pid = await dnsServerPid();
      if (!pid) return { done: false, detail: `named on ${spec.dnsAddress}: a zone per host with MX 10/20, SPF, DKIM, and the reverse zone` };
      return driftOutcome(`named pid ${pid}`, 'its zones and named.conf', 'rewrite them, raising the zones\' serials, and reload named', () => dnsDrift(spec));
    },
    async apply(ctx) {
      const z = await labZones(spec, ctx.hosts);
      await writeDnsServer(spec, z);
      const pid = await startDnsServer(spec);
      ctx.trust = await secureDelegations(spec, z);
      return { detail: `named pid ${pid} on ${spec.dnsAddress}, ${z.length} zones, ${z.filter((x) => x.signed).length} signed (DS of each domain in ${ctx.trust.tops.join(', ')})` };
    },
  };
}

/**
 * Once BIND has signed the zones: each domain's DS into the parent zone (reloaded, and served
 * before we go on), and the DS of the top signed zones as the resolver's trust anchors.
 */
async function secureDelegations(spec: LabSpec, z: LabZone[]): Promise<{ anchors: string[]; tops: string[] }> {
  const keys = dnsFiles().keys;
  const parent = parentZone(spec);
  if (!parent) return trustAnchors(spec, 10_000);
  const ds: Record<string, string[]> = {};
  for (const h of spec.hosts) ds[h.domain] = await dsRecords(keys, h.domain);
  const before = z.find((x) => x.name === parent)!;
  await writeZone(spec, parentLabZone(spec, parent, ds, Math.max(serial(), (before.serial ?? serial()) + 1)));
  await reloadDnsServer();
  const first = spec.hosts[0]!.domain;
  if (!(await waitUntil(async () => (await query(spec, 'DS', first, names.dnsNs).catch(() => [])).length > 0, 10_000, 100))) {
    throw new LabError(`dns: the parent zone ${parent} does not serve the DS of ${first} after the reload`, `see ${dnsFiles().log}`);
  }
  return trustAnchors(spec, 10_000);
}
