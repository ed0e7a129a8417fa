/**
 * The lab topology the pictures draw (hosts, addresses, MX preferences), read from the lab's
 * `lab/topology` record, tolerating the ways a producer may spell it.
 */
import type { EvidenceRecord } from '../evidence/store.js';
import { dataOf, isObj, pick, pickArray, pickNumber, pickString, type Obj } from './fields.js';

export type HostRole = 'mail' | 'dns' | 'client' | 'other';

export interface TopologyHost {
  /** Short name, e.g. st14, dns, client. */
  name: string;
  role: HostRole;
  address?: string;
  domain?: string;
  mailHost?: string;
  users: string[];
  /** Hosts or domains this one is backup MX for, when the lab names them. */
  backupFor?: string[];
}

export interface MxRecord {
  domain: string;
  preference: number;
  /** The mail host the record names, e.g. mail.st18.sne24.ru. */
  exchange: string;
  /** The short host name that serves it, when known. */
  host?: string;
}

export interface Topology {
  subnet?: string;
  bridge?: string;
  hosts: TopologyHost[];
  mx: MxRecord[];
}

function roleOf(name: string, raw: Obj): HostRole {
  const r = (pickString(raw, 'role', 'kind', 'type') ?? '').toLowerCase();
  if (r.includes('dns') || r.includes('bind') || r === 'ns') return 'dns';
  if (r.includes('client')) return 'client';
  if (r.includes('mail') || r.includes('mta') || r.includes('exim')) return 'mail';
  const n = name.toLowerCase();
  if (n.includes('dns') || n === 'ns' || n.includes('bind')) return 'dns';
  if (n.includes('client')) return 'client';
  if (pick(raw, 'domain', 'mailHost') !== undefined) return 'mail';
  return 'other';
}

function toHost(name: string, raw: unknown): TopologyHost {
  const o = isObj(raw) ? raw : {};
  const n = pickString(o, 'name', 'host', 'id', 'ns', 'namespace') ?? name;
  const users = pickArray(o, 'users') ?? (pickString(o, 'user') ? [pickString(o, 'user')] : []);
  return {
    name: n,
    role: roleOf(n, o),
    address: pickString(o, 'address', 'ip', 'addr', 'ipv4'),
    domain: pickString(o, 'domain'),
    mailHost: pickString(o, 'mailHost', 'mx', 'mailhost', 'fqdn', 'hostname'),
    users: users.filter((u): u is string => typeof u === 'string'),
    backupFor: pickArray(o, 'backupFor')?.filter((u): u is string => typeof u === 'string'),
  };
}

function rawHostEntries(raw: unknown): [string, unknown][] {
  if (Array.isArray(raw)) return raw.map((h, i) => [pickString(h, 'name', 'host', 'id') ?? `host${i + 1}`, h]);
  if (isObj(raw)) return Object.entries(raw);
  return [];
}

/** The lab records its spec (addresses) beside per-host facts (mail host, users): merge both by name. */
function hostsFrom(data: Obj): TopologyHost[] {
  const spec = isObj(pick(data, 'spec', 'lab', 'topology')) ? (pick(data, 'spec', 'lab', 'topology') as Obj) : undefined;
  const merged = new Map<string, Obj>();
  for (const src of [spec, data]) {
    for (const [name, h] of rawHostEntries(pick(src, 'hosts', 'nodes', 'machines'))) {
      const n = pickString(h, 'name', 'host', 'id') ?? name;
      merged.set(n, { ...(merged.get(n) ?? {}), ...(isObj(h) ? h : {}), name: n });
    }
  }
  const hosts = [...merged.entries()].map(([name, h]) => toHost(name, h));
  // DNS server and client host sit beside the hosts, as objects or as bare addresses.
  for (const src of [spec, data]) {
    for (const [key, role] of [['dns', 'dns'], ['dnsServer', 'dns'], ['dnsAddress', 'dns'], ['client', 'client'], ['clientAddress', 'client']] as const) {
      const v = pick(src, key);
      if (hosts.some((h) => h.role === role)) continue;
      if (isObj(v)) {
        const h = toHost(role, v);
        h.role = role;
        hosts.push(h);
      } else if (typeof v === 'string') {
        hosts.push({ name: role, role, address: v, users: [] });
      }
    }
  }
  return hosts;
}

function mxFrom(data: Obj, hosts: TopologyHost[]): MxRecord[] {
  const out: MxRecord[] = [];
  const add = (domain: string | undefined, raw: unknown) => {
    if (!isObj(raw)) return;
    const d = pickString(raw, 'domain', 'zone', 'name') ?? domain;
    const preference = pickNumber(raw, 'preference', 'priority', 'pref');
    const exchange = pickString(raw, 'exchange', 'host', 'target', 'mailHost', 'value');
    if (!d || preference === undefined || !exchange) return;
    out.push({ domain: d, preference, exchange });
  };
  const top = pick(data, 'mx', 'mxRecords', 'mxPreferences');
  if (Array.isArray(top)) top.forEach((r) => add(undefined, r));
  else if (isObj(top)) {
    for (const [domain, list] of Object.entries(top)) {
      if (Array.isArray(list)) list.forEach((r) => add(domain, r));
    }
  }
  // Per-host MX lists, e.g. hosts[].mx = [{preference: 10, exchange: ...}].
  for (const [, h] of rawHostEntries(pick(data, 'hosts'))) {
    const list = pickArray(h, 'mx', 'mxRecords');
    if (list) list.forEach((r) => add(pickString(h, 'domain'), r));
  }
  // Nothing listed: the lab's rule, each domain MX 10 at its own host and MX 20 at each host
  // that backs it up (backupFor names them; by default every other host).
  if (out.length === 0) {
    const mail = hosts.filter((h) => h.role === 'mail' && h.domain);
    for (const h of mail) {
      out.push({ domain: h.domain!, preference: 10, exchange: h.mailHost ?? `mail.${h.domain}` });
      for (const p of mail) {
        if (p === h) continue;
        if (p.backupFor && !p.backupFor.includes(h.name) && !p.backupFor.includes(h.domain!)) continue;
        out.push({ domain: h.domain!, preference: 20, exchange: p.mailHost ?? `mail.${p.domain}` });
      }
    }
  }
  // Attach the serving host's short name.
  for (const r of out) {
    const ex = r.exchange.replace(/\.$/, '').toLowerCase();
    const h = hosts.find((x) => (x.mailHost && x.mailHost.replace(/\.$/, '').toLowerCase() === ex) || (x.domain && ex.endsWith(`.${x.domain.toLowerCase()}`)) || x.name.toLowerCase() === ex);
    if (h) r.host = h.name;
  }
  const seen = new Set<string>();
  return out
    .filter((r) => {
      const k = `${r.domain}|${r.preference}|${r.exchange}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => a.domain.localeCompare(b.domain) || a.preference - b.preference);
}

/** The topology in a `lab/topology` record, or undefined when it holds no hosts. */
export function topologyFrom(record: EvidenceRecord | undefined): Topology | undefined {
  for (const data of dataOf(record)) {
    const hosts = hostsFrom(data);
    if (hosts.length === 0) continue;
    const spec = pick(data, 'spec', 'lab', 'topology');
    return {
      subnet: pickString(data, 'subnet', 'network', 'cidr', 'prefix') ?? pickString(spec, 'subnet', 'network', 'cidr'),
      bridge: pickString(data, 'bridge') ?? pickString(spec, 'bridge'),
      hosts,
      mx: mxFrom(data, hosts),
    };
  }
  return undefined;
}
