import { errorMessage } from '../../errors.js';
import { unknownOutcome, type CheckOutcome } from '../../steps/types.js';
import { readIfExists } from '../../system/files.js';
import { labUsers } from '../hosts/accounts.js';
import { labModel, type PreparedHost } from '../hosts/prepare.js';
import { dnsFiles, renderNamedConf, renderZone, reverseZoneName, withoutSerial, type LabZone } from '../services/bind.js';
import { dsRecords, parentZone } from '../services/dnssec.js';
import { hostKeyPaths, hostKeysReady } from '../services/keys.js';
import { renderWebServer, webFiles } from '../services/nginx.js';
import { renderResolver, resolverFiles, type ResolverInputs } from '../services/unbound.js';
import { labZones, parentLabZone } from '../services/zones.js';
import type { LabMailHostSpec, LabSpec } from '../topology.js';

/**
 * Read-only: what the dns, resolver and web steps of lab up would write now, rendered by the same
 * functions their apply uses, against the files on disk. Nothing is made or written: where the
 * rendering needs what only lab up makes (a host's keys, BIND's signing keys), these throw, and
 * the step's check says it cannot tell.
 */

/** A host as lab up prepares it, known without preparing it: its model and where its keys are. */
export function plannedHost(spec: LabSpec, h: LabMailHostSpec): PreparedHost {
  const model = labModel(spec, h);
  return { spec: h, model, keys: hostKeyPaths(h, model), users: labUsers(spec, h) };
}

/**
 * The resolver's trust anchors from BIND's signing keys: the parent zone's DS, or, when the
 * domains share no parent, each domain's. Waits up to timeoutMs for BIND to make the keys (0: reads once).
 */
export async function trustAnchors(spec: LabSpec, timeoutMs = 0): Promise<{ anchors: string[]; tops: string[] }> {
  const keys = dnsFiles().keys;
  const parent = parentZone(spec);
  const tops = parent ? [parent] : spec.hosts.map((h) => h.domain);
  return { anchors: (await Promise.all(tops.map((d) => dsRecords(keys, d, timeoutMs)))).flat(), tops };
}

/** What the resolver step gives unbound: the anchors, and a stub zone per top zone (trustAnchors') and the reverse zone. */
export function resolverInputs(spec: LabSpec, trust: { anchors: string[]; tops: string[] }): ResolverInputs {
  return { anchors: trust.anchors, signedTops: trust.tops, stubs: [...trust.tops, reverseZoneName(spec.subnet)] };
}

/** The files among `want` ([path, text]) whose content differs on disk (a missing file differs). */
async function differing(want: [string, string][], same = (a: string, b: string) => a === b): Promise<string[]> {
  const out: string[] = [];
  for (const [file, text] of want) {
    const on = await readIfExists(file);
    if (on === undefined || !same(on, text)) out.push(file);
  }
  return out;
}

/**
 * The zones as the DNS step leaves them once BIND has signed: the parent zone with each domain's
 * DS, read from BIND's keys (throws when BIND has made none).
 */
export async function zonesAsLeft(spec: LabSpec, hosts: PreparedHost[]): Promise<LabZone[]> {
  const zones = await labZones(spec, hosts);
  const parent = parentZone(spec);
  if (parent) {
    const ds: Record<string, string[]> = {};
    for (const h of spec.hosts) ds[h.domain] = await dsRecords(dnsFiles().keys, h.domain, 0);
    zones[0] = parentLabZone(spec, parent, ds);
  }
  return zones;
}

/**
 * The hosts among `hosts` whose TLS certificate or DKIM key their configure step would make again
 * (missing, not matching, expiring, or the lab CA is), each as what a step made from them must
 * say: their zone's TLSA and DKIM records, and the certificate nginx holds, cannot be judged
 * from the old files, so the dns and web steps re-apply after the host's (which comes first).
 */
async function keysRemade(hosts: PreparedHost[]): Promise<string[]> {
  const out: string[] = [];
  for (const h of hosts) if (!(await hostKeysReady(h.spec, h.model))) out.push(`${h.spec.name}'s TLS certificate and DKIM key (its configure step would make them again)`);
  return out;
}

/** The DNS step's files that differ from what it would write: each zone file (its serial aside, which every write raises) and named.conf. */
export async function dnsDrift(spec: LabSpec): Promise<string[]> {
  const hosts = spec.hosts.map((h) => plannedHost(spec, h));
  const remade = await keysRemade(hosts);
  // Keys ready (keysRemade read them) means the certificate and DKIM key the records are made from exist.
  if (remade.length) return remade;
  const zones = await zonesAsLeft(spec, hosts);
  const want: [string, string][] = [];
  for (const z of zones) want.push([dnsFiles().zone(z.name), await renderZone(spec, z)]);
  const zonesDiffer = await differing(want, (a, b) => withoutSerial(a) === withoutSerial(b));
  return [...zonesDiffer, ...(await differing([[dnsFiles().conf, await renderNamedConf(spec, zones)]]))];
}

/** The resolver step's files (trust anchors, unbound.conf) that differ from what it would write. */
export async function resolverDrift(spec: LabSpec): Promise<string[]> {
  const want = await renderResolver(spec, resolverInputs(spec, await trustAnchors(spec)));
  const f = resolverFiles();
  return differing([[f.anchors, want.anchors], [f.conf, want.conf]]);
}

/** A web step's files (nginx.conf, the MTA-STS policy) that differ from what it would write. */
export async function webDrift(spec: LabSpec, h: LabMailHostSpec): Promise<string[]> {
  const p = plannedHost(spec, h);
  const remade = await keysRemade([p]);
  if (remade.length) return remade;
  const want = await renderWebServer(h, p.model, p.keys);
  const f = webFiles(h);
  return differing([[f.conf, want.conf], [f.policy, want.policy]]);
}

/**
 * A running service step's check beyond its pid: done when none of its files differs from what
 * its apply would write (`drift` lists those that do), else what lab up would do about it
 * (`then`); unknown when that cannot be rendered without making something (keys lab up has not
 * made) or read (not root).
 */
export async function driftOutcome(running: string, what: string, then: string, drift: () => Promise<string[]>): Promise<CheckOutcome> {
  let differ: string[];
  try {
    differ = await drift();
  } catch (err) {
    return unknownOutcome(`${running}; cannot tell whether ${what} are as lab up writes them: ${errorMessage(err).split('\n')[0]}`);
  }
  if (!differ.length) return { done: true, detail: `${running}; ${what} as lab up writes them` };
  return { done: false, detail: `${running}; not as lab up writes them: ${differ.join(', ')}; lab up would ${then}` };
}
