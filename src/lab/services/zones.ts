import { promises as fs } from 'node:fs';
import { dnsRecords, renderZoneFragment } from '../../config/dns.js';
import type { PreparedHost } from '../hosts/prepare.js';
import { mailHostName, type LabSpec } from '../topology.js';
import { reverseZoneBody, reverseZoneName, type LabZone } from './bind.js';
import { delegation, parentZone } from './dnssec.js';
import { dkimPublicKeyPem } from './keys.js';

/**
 * What BIND serves in the lab: a zone per mail domain (exactly what `labctl dns` prints for it),
 * the parent zone that delegates to them, and the reverse zone.
 */

/** A mail domain's zone: exactly the records `labctl dns` prints for it, TLSA included (from the certificate the host serves). */
export async function domainZone(h: PreparedHost): Promise<LabZone> {
  const records = dnsRecords(h.model, { dkimPublicKeyPem: await dkimPublicKeyPem(h.keys), tlsCertificatePem: await fs.readFile(h.keys.certificate, 'utf8') });
  return { name: h.model.domain, ns: `ns.${h.model.domain}`, nsInZone: true, signed: true, body: renderZoneFragment(records) };
}

/** The parent zone: a delegation per lab domain, with its DS once BIND has signed it. */
export function parentLabZone(spec: LabSpec, parent: string, ds: Record<string, string[]> = {}, serial_?: number): LabZone {
  const body = spec.hosts.map((h) => delegation(h.domain, parent, spec.dnsAddress, ds[h.domain] ?? [])).join('\n\n') + '\n';
  return { name: parent, ns: `ns.${parent}`, nsInZone: true, signed: true, body, ...(serial_ ? { serial: serial_ } : {}) };
}

/** Every zone of the lab, the parent (when the domains share one) first, the reverse zone last. */
export async function labZones(spec: LabSpec, hosts: PreparedHost[]): Promise<LabZone[]> {
  const out: LabZone[] = [];
  const parent = parentZone(spec);
  if (parent) out.push(parentLabZone(spec, parent));
  for (const h of hosts) out.push(await domainZone(h));
  out.push({
    name: reverseZoneName(spec.subnet),
    ns: `ns.${spec.hosts[0]!.domain}`,
    nsInZone: false,
    signed: false,
    body: reverseZoneBody([
      ...spec.hosts.map((h) => ({ address: h.address, name: mailHostName(h) })),
      { address: spec.dnsAddress, name: `ns.${spec.hosts[0]!.domain}` },
    ]),
  });
  return out;
}
