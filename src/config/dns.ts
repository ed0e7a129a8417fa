import { createPublicKey } from 'node:crypto';
import { isIP } from 'node:net';
import { usageError } from '../errors.js';
import { backupMxHosts, type HostModel, type Partner } from './model.js';
import { dmarcRecordText, dmarcSettings, mtaStsPolicyFor, mtaStsRecordText, tlsRptRecordText } from './policies.js';
import { tlsaName, tlsaValue } from './tlsa.js';

/**
 * The DNS records a lab domain needs (write-up 4a and Task 7): the mail host's address, MX 10
 * for the domain's own host and MX 20 for each backup, SPF, DKIM; and beyond the write-up
 * (beyond the write-up) DMARC, TLS-RPT, MTA-STS and the mail host's TLSA. The single-host `labctl dns`
 * prints them; the two-host lab's BIND server serves exactly these.
 */
export interface DnsRecord {
  /** Owner name, absolute, without the trailing dot: st14.sne24.ru, lab._domainkey.st14.sne24.ru. */
  name: string;
  type: 'A' | 'AAAA' | 'MX' | 'TXT' | 'TLSA';
  /** MX only. */
  priority?: number;
  /** A/AAAA: the address; MX: the exchange host name; TXT: the whole text (see `strings`); TLSA: "3 1 1 <hex>". */
  value: string;
  /** TXT only: the text split into character-strings of at most 255 bytes each. */
  strings?: string[];
  /** What the record is for, printed as a comment. */
  purpose: string;
}

export interface DnsOptions {
  /** The DKIM public key (PEM, SPKI or PKCS#1); no DKIM record without it. */
  dkimPublicKeyPem?: string;
  /**
   * Hosts that back this domain up (MX 20), in addition to model.backupMx. A partner's
   * `mailHost` becomes the MX 20 target; its address gets an A record when the name lies
   * inside this domain.
   */
  partners?: Array<Pick<Partner, 'mailHost' | 'address'>>;
  /** The certificate Exim serves (PEM); no TLSA record without it. */
  tlsCertificatePem?: string;
}

/** A TXT character-string holds at most 255 bytes (RFC 1035 3.3.14). */
export const TXT_STRING_MAX = 255;

/** Splits a TXT value into character-strings of at most `max` bytes, never inside a UTF-8 sequence. */
export function splitTxt(value: string, max = TXT_STRING_MAX): string[] {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length === 0) return [''];
  const out: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(start + max, bytes.length);
    // Step back off a UTF-8 continuation byte so no character is cut in two.
    while (end < bytes.length && end > start && (bytes[end]! & 0xc0) === 0x80) end--;
    out.push(bytes.subarray(start, end).toString('utf8'));
    start = end;
  }
  return out;
}

/** The base64 SubjectPublicKeyInfo a DKIM `p=` tag carries. */
export function dkimPublicKeyBase64(pem: string): string {
  try {
    return createPublicKey(pem).export({ type: 'spki', format: 'der' }).toString('base64');
  } catch (err) {
    throw usageError(`DKIM public key: not a readable PEM public key (${(err as Error).message})`, 'give the output of `openssl pkey -pubout` for the DKIM key');
  }
}

export const dkimRecordName = (model: Pick<HostModel, 'dkimSelector' | 'domain'>) => `${model.dkimSelector}._domainkey.${model.domain}`;

const inZone = (name: string, zone: string) => name === zone || name.endsWith(`.${zone}`);

function txt(name: string, value: string, purpose: string): DnsRecord {
  return { name, type: 'TXT', value, strings: splitTxt(value), purpose };
}

function addressRecord(name: string, address: string, purpose: string): DnsRecord {
  return { name, type: isIP(address) === 6 ? 'AAAA' : 'A', value: address, purpose };
}

/** The hosts that take mail for the domain, best first: its own mail host, then each backup (MX 20). */
export function mxHosts(model: HostModel, opts: Pick<DnsOptions, 'partners'> = {}): string[] {
  const backups = [...backupMxHosts(model), ...(opts.partners ?? []).map((p) => p.mailHost)].filter((h) => h !== model.mailHost);
  return [model.mailHost, ...new Set(backups)];
}

/** The MTA-STS policy `labctl dns` publishes for the domain: enforce, its MX hosts. */
export const mtaStsFor = (model: HostModel, opts: Pick<DnsOptions, 'partners'> = {}) => mtaStsPolicyFor(mxHosts(model, opts));

/** The records, in zone-file order: addresses, MX, TXT, then TLSA. */
export function dnsRecords(model: HostModel, opts: DnsOptions = {}): DnsRecord[] {
  const records: DnsRecord[] = [];
  const zone = model.domain;
  if (model.address && inZone(model.mailHost, zone)) {
    records.push(addressRecord(model.mailHost, model.address, 'the mail host (4a)'));
  }
  const backups = new Map<string, string | undefined>();
  for (const host of backupMxHosts(model)) backups.set(host, undefined);
  for (const p of opts.partners ?? []) backups.set(p.mailHost, p.address ?? backups.get(p.mailHost));
  for (const [host, address] of backups) {
    if (address && inZone(host, zone) && host !== model.mailHost) records.push(addressRecord(host, address, 'backup mail host'));
  }
  if (model.address) {
    records.push(addressRecord(`mta-sts.${zone}`, model.address, 'MTA-STS: the web server senders fetch the policy from (served on the mail host)'));
  }
  records.push({ name: zone, type: 'MX', priority: 10, value: model.mailHost, purpose: 'own mail host first (4a)' });
  for (const host of backups.keys()) {
    if (host !== model.mailHost) records.push({ name: zone, type: 'MX', priority: 20, value: host, purpose: 'partner holds mail while we are down (4a, 5a)' });
  }
  records.push(txt(zone, model.spfPolicy, 'SPF: who may send for the domain (Task 7)'));
  if (opts.dkimPublicKeyPem) {
    const p = dkimPublicKeyBase64(opts.dkimPublicKeyPem);
    records.push(txt(dkimRecordName(model), `v=DKIM1; k=rsa; p=${p}`, `DKIM public key, selector ${model.dkimSelector} (Task 7)`));
  }
  const dmarc = dmarcSettings(model);
  records.push(txt(`_dmarc.${zone}`, dmarcRecordText(dmarc), `DMARC: receivers ${dmarc.policy === 'none' ? 'only report' : dmarc.policy} mail from this domain that neither aligned SPF nor aligned DKIM vouches for; reports to postmaster`));
  records.push(txt(`_smtp._tls.${zone}`, tlsRptRecordText(zone), 'TLS-RPT: senders report failed TLS (STARTTLS, DANE, MTA-STS) to postmaster'));
  records.push(txt(`_mta-sts.${zone}`, mtaStsRecordText(mtaStsFor(model, opts).id), 'MTA-STS: senders must use verified TLS to the policy\'s MX hosts; the id changes with the policy'));
  if (opts.tlsCertificatePem && inZone(model.mailHost, zone)) {
    records.push({ name: tlsaName(model.mailHost), type: 'TLSA', value: tlsaValue(opts.tlsCertificatePem), purpose: `DANE: the SHA-256 of ${model.mailHost}'s public key (3 1 1); a sender that validates DNSSEC accepts only this key on port 25` });
  }
  return records;
}

/** Quotes one TXT character-string for a zone file. */
const quote = (s: string) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;

/** Owner name relative to the zone origin when possible ("@", "mail", "lab._domainkey"). */
function relative(name: string, origin?: string): string {
  if (!origin) return `${name}.`;
  if (name === origin) return '@';
  if (name.endsWith(`.${origin}`)) return name.slice(0, -origin.length - 1);
  return `${name}.`;
}

const absolute = (name: string) => `${name}.`;

/**
 * The BIND zone fragment for the records. With `origin` (the zone's $ORIGIN) owner names are
 * written relative to it; otherwise every name is absolute, so the fragment fits any zone file.
 */
export function renderZoneFragment(records: DnsRecord[], opts: { origin?: string; ttl?: number } = {}): string {
  const ttl = opts.ttl ?? 300;
  const lines: string[] = [];
  const width = Math.max(...records.map((r) => relative(r.name, opts.origin).length), 1);
  for (const r of records) {
    lines.push(`; ${r.purpose}`);
    const owner = relative(r.name, opts.origin).padEnd(width);
    const head = `${owner} ${ttl} IN ${r.type.padEnd(4)}`;
    if (r.type === 'MX') lines.push(`${head} ${r.priority} ${absolute(r.value)}`);
    else if (r.type === 'TXT') {
      const strings = r.strings ?? splitTxt(r.value);
      if (strings.length === 1) lines.push(`${head} ${quote(strings[0]!)}`);
      else lines.push(`${head} ( ${strings.map(quote).join('\n' + ' '.repeat(head.length + 3))} )`);
    } else lines.push(`${head} ${r.value}`);
  }
  return lines.join('\n') + '\n';
}
