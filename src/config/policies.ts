import { createHash } from 'node:crypto';
import { DMARC_ALIGNMENTS, DMARC_POLICIES, MODEL_DEFAULTS, type DmarcAlignment, type DmarcPolicy, type HostModel } from './model.js';

/**
 * The text of the policy records a domain publishes beyond SPF and DKIM (beyond the write-up), and parsers
 * for what DNS or a web server hands back: DMARC (RFC 7489), TLS-RPT (RFC 8460) and MTA-STS
 * (RFC 8461). `labctl dns` renders with these; `labctl verify` parses with them.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const fail = (error: string): { ok: false; error: string } => ({ ok: false, error });

/**
 * Splits "v=X; a=b; c=d" into ordered tag/value pairs (DMARC, TLS-RPT and MTA-STS TXT share this
 * tag-list shape). Tag names compare case-insensitively; a repeated tag is an error.
 */
export function parseTagList(text: string): Parsed<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  const seen = new Set<string>();
  const parts = text.split(';').map((p) => p.trim());
  // One trailing ";" is allowed; an empty part in the middle is not.
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  for (const part of parts) {
    const m = /^([A-Za-z][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(part);
    if (!m) return fail(`"${part}" is not a tag=value pair`);
    const name = m[1]!.toLowerCase();
    if (seen.has(name)) return fail(`tag ${name} appears twice`);
    seen.add(name);
    out.push([name, m[2]!.trim()]);
  }
  return { ok: true, value: out };
}

/** "mailto:a@b,https://x/y" -> URIs; each must be mailto: with an address or https:. */
function parseReportUris(tag: string, value: string): Parsed<string[]> {
  const uris = value.split(',').map((u) => u.trim());
  for (const u of uris) {
    if (/^mailto:[^@\s,;!]+@[^@\s,;!]+(![0-9]+[kmgt]?)?$/i.test(u) || /^https:\/\/\S+$/i.test(u)) continue;
    return fail(`${tag}: "${u}" is not a mailto: or https: URI`);
  }
  return { ok: true, value: uris };
}

// --- DMARC -------------------------------------------------------------------------------------

export interface DmarcSettings {
  policy: DmarcPolicy;
  adkim: DmarcAlignment;
  aspf: DmarcAlignment;
  /** Where aggregate reports go: mailto:postmaster@<domain>. */
  rua: string;
}

/** The model's DMARC choices with the defaults filled in. */
export function dmarcSettings(model: Pick<HostModel, 'domain' | 'dmarcPolicy' | 'dmarcAdkim' | 'dmarcAspf'>): DmarcSettings {
  return {
    policy: model.dmarcPolicy ?? MODEL_DEFAULTS.dmarcPolicy,
    adkim: model.dmarcAdkim ?? MODEL_DEFAULTS.dmarcAlignment,
    aspf: model.dmarcAspf ?? MODEL_DEFAULTS.dmarcAlignment,
    rua: `mailto:postmaster@${model.domain}`,
  };
}

export const dmarcRecordText = (s: DmarcSettings) => `v=DMARC1; p=${s.policy}; rua=${s.rua}; adkim=${s.adkim}; aspf=${s.aspf}`;

export interface DmarcRecord {
  policy: DmarcPolicy;
  subdomainPolicy?: DmarcPolicy;
  /** Defaults r when absent (RFC 7489 6.3). */
  adkim: DmarcAlignment;
  aspf: DmarcAlignment;
  rua: string[];
  ruf: string[];
  pct: number;
}

/**
 * Parses a DMARC TXT record (RFC 7489 6.3, 6.4): v=DMARC1 first, p= required and valid; adkim,
 * aspf, sp, pct, rua and ruf checked when present; unknown tags ignored, as receivers must.
 */
export function parseDmarc(text: string): Parsed<DmarcRecord> {
  const tags = parseTagList(text);
  if (!tags.ok) return tags;
  const [first, ...rest] = tags.value;
  if (!first || first[0] !== 'v' || first[1] !== 'DMARC1') return fail('does not start with v=DMARC1');
  const get = (t: string) => rest.find(([n]) => n === t)?.[1];
  const p = get('p');
  if (p === undefined) return fail('no p= tag (the policy is required)');
  const policy = p.toLowerCase() as DmarcPolicy;
  if (!DMARC_POLICIES.includes(policy)) return fail(`p=${p}: not one of ${DMARC_POLICIES.join(', ')}`);
  const out: DmarcRecord = { policy, adkim: 'r', aspf: 'r', rua: [], ruf: [], pct: 100 };
  const sp = get('sp');
  if (sp !== undefined) {
    if (!DMARC_POLICIES.includes(sp.toLowerCase() as DmarcPolicy)) return fail(`sp=${sp}: not one of ${DMARC_POLICIES.join(', ')}`);
    out.subdomainPolicy = sp.toLowerCase() as DmarcPolicy;
  }
  for (const t of ['adkim', 'aspf'] as const) {
    const v = get(t);
    if (v === undefined) continue;
    if (!DMARC_ALIGNMENTS.includes(v.toLowerCase() as DmarcAlignment)) return fail(`${t}=${v}: not s (strict) or r (relaxed)`);
    out[t] = v.toLowerCase() as DmarcAlignment;
  }
  const pct = get('pct');
  if (pct !== undefined) {
    if (!/^\d{1,3}$/.test(pct) || Number(pct) > 100) return fail(`pct=${pct}: not a whole number from 0 to 100`);
    out.pct = Number(pct);
  }
  for (const t of ['rua', 'ruf'] as const) {
    const v = get(t);
    if (v === undefined) continue;
    const uris = parseReportUris(t, v);
    if (!uris.ok) return uris;
    out[t] = uris.value;
  }
  return { ok: true, value: out };
}

// --- TLS-RPT -----------------------------------------------------------------------------------

export const tlsRptRecordText = (domain: string) => `v=TLSRPTv1; rua=mailto:postmaster@${domain}`;

/** Parses a TLS-RPT TXT record (RFC 8460 3): v=TLSRPTv1 first, rua= with mailto:/https: URIs. */
export function parseTlsRpt(text: string): Parsed<{ rua: string[] }> {
  const tags = parseTagList(text);
  if (!tags.ok) return tags;
  const [first, ...rest] = tags.value;
  if (!first || first[0] !== 'v' || first[1] !== 'TLSRPTv1') return fail('does not start with v=TLSRPTv1');
  const rua = rest.find(([n]) => n === 'rua')?.[1];
  if (rua === undefined) return fail('no rua= tag (where reports go is required)');
  const uris = parseReportUris('rua', rua);
  if (!uris.ok) return uris;
  return { ok: true, value: { rua: uris.value } };
}

// --- MTA-STS -----------------------------------------------------------------------------------

export type StsMode = 'enforce' | 'testing' | 'none';

export interface MtaStsPolicy {
  mode: StsMode;
  mx: string[];
  maxAge: number;
}

/** Where a sender fetches the policy (RFC 8461 3.3). */
export const mtaStsUrl = (domain: string) => `https://mta-sts.${domain}/.well-known/mta-sts.txt`;

/** The policy file's text, CRLF-separated as RFC 8461 3.2 says. */
export function mtaStsPolicyText(p: MtaStsPolicy): string {
  return ['version: STSv1', `mode: ${p.mode}`, ...p.mx.map((m) => `mx: ${m}`), `max_age: ${p.maxAge}`].map((l) => `${l}\r\n`).join('');
}

/** The TXT id: a short hash of the policy text, so it changes exactly when the policy does. */
export const mtaStsId = (policyText: string) => createHash('sha256').update(policyText).digest('hex').slice(0, 16);

export const mtaStsRecordText = (id: string) => `v=STSv1; id=${id}`;

/** The domain's policy: enforce, its MX hosts in preference order, the default max_age. */
export function mtaStsPolicyFor(mxHosts: string[]): { policy: MtaStsPolicy; text: string; id: string } {
  const policy: MtaStsPolicy = { mode: 'enforce', mx: [...new Set(mxHosts)], maxAge: MODEL_DEFAULTS.mtaStsMaxAge };
  const text = mtaStsPolicyText(policy);
  return { policy, text, id: mtaStsId(text) };
}

/** Parses the `_mta-sts` TXT record (RFC 8461 3.1): v=STSv1 first, id= of 1 to 32 letters and digits. */
export function parseMtaStsTxt(text: string): Parsed<{ id: string }> {
  const tags = parseTagList(text);
  if (!tags.ok) return tags;
  const [first, ...rest] = tags.value;
  if (!first || first[0] !== 'v' || first[1] !== 'STSv1') return fail('does not start with v=STSv1');
  const id = rest.find(([n]) => n === 'id')?.[1];
  if (id === undefined) return fail('no id= tag');
  if (!/^[A-Za-z0-9]{1,32}$/.test(id)) return fail(`id=${id}: must be 1 to 32 letters and digits`);
  return { ok: true, value: { id } };
}

/** The largest max_age RFC 8461 allows (about one year). */
export const STS_MAX_AGE_LIMIT = 31557600;

/**
 * Parses a policy file (RFC 8461 3.2): "key: value" lines (CRLF, LF tolerated); version STSv1,
 * mode, max_age and, unless mode is none, at least one mx are required; unknown keys ignored.
 */
export function parseMtaStsPolicy(text: string): Parsed<MtaStsPolicy> {
  const fields: Array<[string, string]> = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^([A-Za-z0-9_]+):\s*(\S.*?)\s*$/.exec(line);
    if (!m) return fail(`line ${i + 1} "${line}" is not "key: value"`);
    fields.push([m[1]!, m[2]!]);
  }
  const one = (k: string): Parsed<string | undefined> => {
    const all = fields.filter(([n]) => n === k);
    if (all.length > 1) return fail(`${k} appears ${all.length} times`);
    return { ok: true, value: all[0]?.[1] };
  };
  const version = one('version');
  if (!version.ok) return version;
  if (version.value !== 'STSv1') return fail(version.value === undefined ? 'no version line' : `version: ${version.value} is not STSv1`);
  const mode = one('mode');
  if (!mode.ok) return mode;
  if (!mode.value || !['enforce', 'testing', 'none'].includes(mode.value)) return fail(mode.value === undefined ? 'no mode line' : `mode: ${mode.value} is not enforce, testing or none`);
  const maxAge = one('max_age');
  if (!maxAge.ok) return maxAge;
  if (maxAge.value === undefined) return fail('no max_age line');
  if (!/^\d{1,10}$/.test(maxAge.value) || Number(maxAge.value) > STS_MAX_AGE_LIMIT) return fail(`max_age: ${maxAge.value} is not a whole number of seconds up to ${STS_MAX_AGE_LIMIT}`);
  const mx = fields.filter(([n]) => n === 'mx').map(([, v]) => v.toLowerCase());
  for (const m of mx) if (!/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+\.?$/.test(m)) return fail(`mx: ${m} is not a host name or *.domain pattern`);
  if (mode.value !== 'none' && !mx.length) return fail(`mode ${mode.value} without any mx line`);
  return { ok: true, value: { mode: mode.value as StsMode, mx, maxAge: Number(maxAge.value) } };
}

/** Whether a policy mx pattern covers an MX host (RFC 8461 4.1: "*." stands for exactly one label). */
export function stsMxMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase().replace(/\.$/, '');
  const h = host.toLowerCase().replace(/\.$/, '');
  if (!p.startsWith('*.')) return p === h;
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot + 1) === p.slice(2);
}

/** MX hosts that no mx line of the policy covers. */
export const uncoveredMx = (policy: Pick<MtaStsPolicy, 'mx'>, mxHosts: string[]) => mxHosts.filter((h) => !policy.mx.some((p) => stsMxMatches(p, h)));
