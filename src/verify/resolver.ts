import { promises as dnsp } from 'node:dns';
import type { DnsRecord } from '../config/dns.js';

/**
 * DNS for the checks: a node:dns Resolver aimed at `--dns-server` (or the system's servers),
 * with a timeout and one try, so a missing server costs seconds, not minutes.
 */
export interface LabResolver {
  /** Who answers: "10.203.0.53" or "system resolver (nameserver 10.255.255.53)". */
  describe: string;
  explicit: boolean;
  resolveMx(name: string): Promise<{ exchange: string; priority: number }[]>;
  resolveTxt(name: string): Promise<string[][]>;
  /** For mailauth: (name, rrtype) -> records, throwing DNS errors with their codes. */
  mailauth(name: string, rrtype: string): Promise<string[][] | string[]>;
}

export function makeResolver(server: string | undefined, timeoutMs: number, systemServers: string[] = []): LabResolver {
  const r = new dnsp.Resolver({ timeout: timeoutMs, tries: 1 });
  if (server) r.setServers([server]);
  const mailauth = async (name: string, rrtype: string): Promise<string[][] | string[]> => {
    switch (rrtype) {
      case 'TXT':
        return r.resolveTxt(name);
      case 'MX':
        return (await r.resolveMx(name)) as unknown as string[];
      case 'A':
        return r.resolve4(name);
      case 'AAAA':
        return r.resolve6(name);
      default:
        return r.resolve(name, rrtype) as Promise<string[]>;
    }
  };
  return {
    describe: server ? `DNS server ${server}` : `system resolver (${systemServers.length ? `nameserver ${systemServers.join(', ')}` : 'no nameserver configured'})`,
    explicit: !!server,
    resolveMx: (name) => r.resolveMx(name),
    resolveTxt: (name) => r.resolveTxt(name),
    mailauth,
  };
}

const dnsError = (code: string, name: string) => Object.assign(new Error(`${code} ${name}`), { code });

/** A mailauth resolver that answers from the records `labctl dns` says to publish. */
export function expectedRecordsResolver(records: DnsRecord[]) {
  return async (name: string, rrtype: string): Promise<string[][] | string[]> => {
    const n = name.replace(/\.$/, '').toLowerCase();
    const hits = records.filter((r) => r.name.toLowerCase() === n && r.type === rrtype);
    if (!hits.length) throw dnsError('ENOTFOUND', name);
    if (rrtype === 'TXT') return hits.map((h) => h.strings ?? [h.value]);
    if (rrtype === 'MX') return hits.map((h) => ({ exchange: h.value, priority: h.priority ?? 0 })) as unknown as string[];
    return hits.map((h) => h.value);
  };
}

/** DNS error codes that mean "nobody published this here", as opposed to a wrong answer. */
export const NO_ANSWER = new Set(['ENOTFOUND', 'ENODATA', 'ESERVFAIL', 'ETIMEOUT', 'ECONNREFUSED', 'EREFUSED', 'ENOTIMP']);

export function parseResolvConf(text: string | undefined): string[] {
  return (text ?? '').split('\n').map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]).filter((s): s is string => !!s);
}
