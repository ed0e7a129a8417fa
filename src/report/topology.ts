/**
 * The lab topology the pictures draw (hosts, addresses, MX preferences), read from the
 * `lab/topology` record's typed payload.
 */
import { readPayload, type Topology } from '../evidence/payloads.js';
import type { EvidenceRecord } from '../evidence/types.js';

export type HostRole = 'mail' | 'dns' | 'client';

export interface TopologyHost {
  /** Short name, e.g. st14, dns, client. */
  name: string;
  role: HostRole;
  address?: string;
  domain?: string;
  mailHost?: string;
  users: string[];
  /** Hosts this one is backup MX for, when the lab names them (default: every other mail host). */
  backupFor?: string[];
}

export interface MxRecord {
  domain: string;
  preference: number;
  /** The mail host the record names, e.g. mail.st18.sne24.ru. */
  exchange: string;
  /** The short host name that serves it. */
  host?: string;
}

/** What the pictures and tables show. */
export interface TopologyView {
  subnet?: string;
  hosts: TopologyHost[];
  mx: MxRecord[];
}

/** Mail hosts from the lab's spec with the model's values beside them, then the DNS server and the client. */
function hostsOf(t: Topology): TopologyHost[] {
  const mail = t.spec.hosts.map((h): TopologyHost => {
    const model = t.hosts[h.name];
    return {
      name: h.name,
      role: 'mail',
      address: h.address,
      domain: model?.domain ?? h.domain,
      mailHost: model?.mailHost ?? h.mailHost ?? `mail.${h.domain}`,
      users: model?.users ?? h.users,
      backupFor: h.backupFor,
    };
  });
  return [
    ...mail,
    { name: 'dns', role: 'dns', address: t.spec.dnsAddress, users: [] },
    { name: 'client', role: 'client', address: t.spec.clientAddress, users: [] },
  ];
}

/**
 * The lab's rule, as `labctl dns` publishes it: each domain has MX 10 at its own host and MX 20
 * at each host that backs it up (backupFor names them; by default every other host).
 */
function mxOf(hosts: TopologyHost[]): MxRecord[] {
  const mail = hosts.filter((h) => h.role === 'mail');
  const out: MxRecord[] = [];
  for (const h of mail) {
    out.push({ domain: h.domain!, preference: 10, exchange: h.mailHost!, host: h.name });
    for (const p of mail) {
      if (p === h || (p.backupFor && !p.backupFor.includes(h.name))) continue;
      out.push({ domain: h.domain!, preference: 20, exchange: p.mailHost!, host: p.name });
    }
  }
  return out.sort((a, b) => a.domain.localeCompare(b.domain) || a.preference - b.preference);
}

/** The topology in a `lab/topology` record, or undefined when it holds no topology payload. */
export function topologyFrom(record: EvidenceRecord | undefined): TopologyView | undefined {
  const t = readPayload(record, 'topology');
  if (!t) return undefined;
  const hosts = hostsOf(t);
  return { subnet: t.spec.subnet, hosts, mx: mxOf(hosts) };
}
