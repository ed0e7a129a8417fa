import { isIP } from 'node:net';
import { httpsRequest } from '../../system/net.js';
import { rootCertificates } from 'node:tls';
import { mtaStsFor } from '../../config/dns.js';
import { dmarcSettings, mtaStsUrl, parseDmarc, parseMtaStsPolicy, parseMtaStsTxt, parseTlsRpt, uncoveredMx } from '../../config/policies.js';
import { readIfExists } from '../../system/files.js';
import { expectedRecords, lookup, showRecords } from '../expected.js';
import type { CheckContext, CheckDef } from '../types.js';
import { HINT_DNS, noAnswer, publishedTxt } from './published.js';

/**
 * Beyond the write-up, the records side: DMARC, TLS-RPT and MTA-STS as published, judged against what
 * `labctl dns` says (the model's policy and alignment, the MTA-STS policy and its id). Off the
 * lab nothing serves the domain, so each warns and shows the record it expected instead.
 */

async function expectedTxt(ctx: CheckContext, name: string) {
  const rec = (await expectedRecords(ctx.facts)).find((r) => r.type === 'TXT' && r.name === name);
  ctx.evidence.push({ kind: 'text', label: 'expected (labctl dns)', text: rec ? showRecords([rec]) : '(no labctl model stored: run labctl configure)' });
  return rec;
}

export const dmarcRecord: CheckDef = {
  id: 'dmarc-record',
  title: 'the DMARC record is published, parses, and has the configured policy and alignment',
  async run(ctx) {
    const { target } = ctx;
    const name = `_dmarc.${target.domain}`;
    const expected = await expectedTxt(ctx, name);
    const p = await publishedTxt(ctx, name, /^\s*v=DMARC1\b/i);
    if (!p.records.length) {
      if (p.offline) return { status: 'warn', summary: `not published here: ${noAnswer(p, name)}; labctl dns says "${expected?.value ?? '?'}"; ${HINT_DNS}` };
      return { status: 'fail', summary: `no DMARC record at ${name} from ${p.dns.describe}${p.got.ok ? '' : ` (${p.got.code})`}` };
    }
    if (p.records.length > 1) return { status: 'fail', summary: `${p.records.length} DMARC records at ${name}: receivers ignore them all (RFC 7489 6.6.3)` };
    const parsed = parseDmarc(p.records[0]!);
    ctx.evidence.push({ kind: 'data', label: 'parsed', data: parsed });
    if (!parsed.ok) return { status: 'fail', summary: `"${p.records[0]}" does not parse: ${parsed.error}` };
    const got = parsed.value;
    const shown = `p=${got.policy} adkim=${got.adkim} aspf=${got.aspf}${got.rua.length ? `, reports to ${got.rua.join(', ')}` : ''}`;
    if (!target.model) return { status: 'warn', summary: `published and parses (${shown}); nothing to compare with (no labctl model)` };
    const want = dmarcSettings(target.model);
    const wrong = [
      got.policy !== want.policy && `p=${got.policy} (configured ${want.policy})`,
      got.adkim !== want.adkim && `adkim=${got.adkim} (configured ${want.adkim})`,
      got.aspf !== want.aspf && `aspf=${got.aspf} (configured ${want.aspf})`,
      !got.rua.includes(want.rua) && `rua without ${want.rua}`,
    ].filter(Boolean);
    if (wrong.length) return { status: 'fail', summary: `published "${p.records[0]}": ${wrong.join(', ')}` };
    return { status: 'pass', summary: `${shown}, as configured (from ${p.dns.describe})` };
  },
};

export const tlsRpt: CheckDef = {
  id: 'tls-rpt',
  title: 'the TLS-RPT record is published and well formed',
  async run(ctx) {
    const name = `_smtp._tls.${ctx.target.domain}`;
    const expected = await expectedTxt(ctx, name);
    const p = await publishedTxt(ctx, name, /^\s*v=TLSRPTv1\b/i);
    if (!p.records.length) {
      if (p.offline) return { status: 'warn', summary: `not published here: ${noAnswer(p, name)}; labctl dns says "${expected?.value ?? '?'}"; ${HINT_DNS}` };
      return { status: 'fail', summary: `no TLS-RPT record at ${name} from ${p.dns.describe}${p.got.ok ? '' : ` (${p.got.code})`}` };
    }
    if (p.records.length > 1) return { status: 'fail', summary: `${p.records.length} TLS-RPT records at ${name}: senders ignore them all (RFC 8460 3)` };
    const parsed = parseTlsRpt(p.records[0]!);
    if (!parsed.ok) return { status: 'fail', summary: `"${p.records[0]}" is not well formed: ${parsed.error}` };
    const want = expected ? parseTlsRpt(expected.value) : undefined;
    if (want?.ok && want.value.rua.join(',') !== parsed.value.rua.join(',')) return { status: 'fail', summary: `reports go to ${parsed.value.rua.join(', ')}; labctl dns says ${want.value.rua.join(', ')}` };
    return { status: 'pass', summary: `well formed; reports go to ${parsed.value.rua.join(', ')} (from ${p.dns.describe})` };
  },
};

interface Fetched {
  status?: number;
  contentType?: string;
  body?: string;
  error?: { code: string; message: string };
}

/** Network outcomes that mean "nothing serves the policy here", as opposed to a bad certificate or a bad answer. */
const NOT_SERVED = new Set(['ENOTFOUND', 'ENODATA', 'ESERVFAIL', 'ETIMEOUT', 'EREFUSED', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

/**
 * GET the policy with Node's HTTPS client: the certificate must verify for mta-sts.<domain>
 * against the lab CA (or --ca) and the system store; no redirects (RFC 8461 3.3). The host name
 * is resolved by the check's resolver, so --dns-server and the lab's DNS apply here too.
 */
function fetchPolicy(url: string, o: { ca: string[]; resolve: (name: string) => Promise<string[]>; timeoutMs: number; signal: AbortSignal }): Promise<Fetched> {
  const u = new URL(url);
  return new Promise((done) => {
    const req = httpsRequest(
      {
        host: u.hostname,
        path: u.pathname,
        method: 'GET',
        ca: o.ca,
        servername: u.hostname,
        timeout: o.timeoutMs,
        signal: o.signal,
        headers: { 'user-agent': 'labctl-verify' },
        lookup: ((hostname: string, opts: { all?: boolean }, cb: (err: Error | null, address?: unknown, family?: number) => void) => {
          o.resolve(hostname).then(
            (addrs) => (opts.all ? cb(null, addrs.map((address) => ({ address, family: isIP(address) }))) : cb(null, addrs[0], isIP(addrs[0]!))),
            (err: Error) => cb(err),
          );
        }) as never,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (body.length < 65536) body += c;
        });
        res.on('end', () => done({ status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), body }));
        res.on('error', (e: NodeJS.ErrnoException) => done({ error: { code: e.code ?? 'ERROR', message: e.message } }));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${o.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => done({ error: { code: e.code ?? 'ERROR', message: e.message } }));
    req.end();
  });
}

export const mtaSts: CheckDef = {
  id: 'mta-sts',
  title: 'MTA-STS: the TXT record, the policy over verified HTTPS, its mx lines cover the MX records',
  async run(ctx) {
    const { target } = ctx;
    const domain = target.domain;
    const name = `_mta-sts.${domain}`;
    const url = mtaStsUrl(domain);
    const want = target.model ? mtaStsFor(target.model) : undefined;
    ctx.evidence.push({ kind: 'text', label: `expected policy (labctl dns), id ${want?.id ?? '?'}`, text: want?.text.replace(/\r\n/g, '\n') ?? '(no labctl model stored)' });
    const p = await publishedTxt(ctx, name, /^\s*v=STSv1\b/i);
    if (!p.records.length) {
      if (p.offline) return { status: 'warn', summary: `not published here: ${noAnswer(p, name)}, and nothing serves ${url}; ${HINT_DNS}` };
      return { status: 'fail', summary: `no MTA-STS record at ${name} from ${p.dns.describe}${p.got.ok ? '' : ` (${p.got.code})`}` };
    }
    if (p.records.length > 1) return { status: 'fail', summary: `${p.records.length} MTA-STS records at ${name}: senders treat that as no policy (RFC 8461 3.1)` };
    const txt = parseMtaStsTxt(p.records[0]!);
    if (!txt.ok) return { status: 'fail', summary: `"${p.records[0]}" is not well formed: ${txt.error}` };

    const labCa = target.caFile ? await readIfExists(target.caFile).catch(() => undefined) : undefined;
    const caName = labCa ? `${target.caFile} and the system store` : 'the system store';
    const dns = p.dns;
    const fetched = await fetchPolicy(url, {
      ca: [...rootCertificates, ...(labCa ? [labCa] : [])],
      resolve: async (host) => (await dns.mailauth(host, 'A')) as string[],
      timeoutMs: Math.max(500, Math.min(4000, ctx.remainingMs() - 500)),
      signal: ctx.signal,
    });
    ctx.evidence.push({
      kind: 'text',
      label: `GET ${url} (certificate checked against ${caName})`,
      text: fetched.error ? `error: ${fetched.error.code}: ${fetched.error.message}` : `HTTP ${fetched.status}, Content-Type: ${fetched.contentType}\n\n${fetched.body ?? ''}`,
    });
    if (fetched.error) {
      if (NOT_SERVED.has(fetched.error.code)) {
        return { status: 'warn', summary: `TXT id=${txt.value.id} published, but nothing serves ${url} here (${fetched.error.code}); senders would find no policy` };
      }
      return { status: 'fail', summary: `${url}: ${fetched.error.message} (${fetched.error.code}; certificate checked against ${caName})` };
    }
    if (fetched.status !== 200) return { status: 'fail', summary: `${url} answered HTTP ${fetched.status}` };
    if (!/^text\/plain\b/i.test(fetched.contentType ?? '')) return { status: 'fail', summary: `${url} is served as "${fetched.contentType}", not text/plain (RFC 8461 3.2)` };
    const policy = parseMtaStsPolicy(fetched.body ?? '');
    if (!policy.ok) return { status: 'fail', summary: `the policy at ${url} does not parse: ${policy.error}` };

    const mx = await lookup(() => dns.resolveMx(domain));
    const hosts = mx.ok ? [...mx.value].sort((a, b) => a.priority - b.priority).map((m) => m.exchange.replace(/\.$/, '')) : [];
    ctx.evidence.push({ kind: 'text', label: `query: ${domain} MX (${dns.describe})`, text: mx.ok ? mx.value.map((m) => `${m.priority} ${m.exchange}`).join('\n') : `no answer: ${mx.code}` });
    if (!hosts.length) return { status: 'fail', summary: `policy fetched, but no MX records for ${domain} to compare its mx lines with (${mx.ok ? 'none' : mx.code})` };
    const missing = uncoveredMx(policy.value, hosts);
    if (missing.length) return { status: 'fail', summary: `the policy's mx lines (${policy.value.mx.join(', ')}) do not cover MX ${missing.join(', ')}: senders in enforce mode would refuse to deliver there` };
    if (target.model && policy.value.mode !== 'enforce') return { status: 'fail', summary: `mode ${policy.value.mode}; labctl publishes enforce` };
    if (want && txt.value.id !== want.id) return { status: 'fail', summary: `TXT id=${txt.value.id}, but the policy labctl dns computes has id ${want.id}: publish the new id so senders refetch` };
    return { status: 'pass', summary: `id=${txt.value.id}; ${url} verified against ${caName}; mode ${policy.value.mode}, mx ${policy.value.mx.join(', ')} cover MX ${hosts.join(', ')}; max_age ${policy.value.maxAge}` };
  },
};
