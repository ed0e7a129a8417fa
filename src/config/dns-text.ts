import type { HostModel } from './model.js';
import { renderZoneFragment, type DnsRecord } from './dns.js';
import { mtaStsUrl } from './policies.js';

/**
 * What `labctl dns` prints: the zone fragment, then the MTA-STS policy file (which lives on a web
 * server, not in DNS) as comments, then what could not be computed and why. Pure, so the whole
 * output is compared with a golden file.
 */
export interface DnsText {
  model: HostModel;
  records: DnsRecord[];
  mtaSts: { url: string; text: string; id: string };
  origin?: string;
  /** Lines saying what is missing ("no DKIM key found: ..."). */
  notes: string[];
}

export function renderDnsText(o: DnsText): string {
  const out = [`; zone records for ${o.model.domain}, from labctl dns\n`, renderZoneFragment(o.records, { origin: o.origin })];
  out.push(`;\n; MTA-STS policy (id ${o.mtaSts.id}), served as ${o.mtaSts.url} with CRLF line ends:\n`);
  for (const line of o.mtaSts.text.split('\r\n').filter(Boolean)) out.push(`;   ${line}\n`);
  for (const n of o.notes) out.push(`; ${n}\n`);
  return out.join('');
}

/** The `--json` shape: `{domain, records, mtaSts: {url, id, policy}, notes}`. */
export function dnsJson(o: DnsText) {
  return { domain: o.model.domain, records: o.records, mtaSts: { url: o.mtaSts.url, id: o.mtaSts.id, policy: o.mtaSts.text }, notes: o.notes };
}

export const mtaStsView = (domain: string, p: { text: string; id: string }) => ({ url: mtaStsUrl(domain), text: p.text, id: p.id });
