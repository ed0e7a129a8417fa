import { rootCertificates } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { readIfExists } from '../../system/files.js';
import { askEtrn, type EtrnResult } from '../etrn.js';
import { isNoAnswer, lookup, resolver } from '../expected.js';
import { smtpSession, type TlsInfo } from '../smtp.js';
import type { CheckContext, CheckDef } from '../types.js';
import { judgeCertificate } from './tls.js';

/**
 * One side of a real pair (write-up Task 2, 4a-5c between two students' machines): what this
 * host can check about its partner with nothing but DNS and the partner's SMTP. The partner is
 * `--partner HOST` (verify, or configure, which records it). The partner's own side (relaying
 * for this domain) is its 5a-backup-relay.
 */

const NO_PARTNER = 'no partner known: give --partner HOST (to labctl verify, or to labctl configure, which records it)';

const partnerOf = (ctx: CheckContext) => ctx.target.partner;

const norm = (h: string) => h.toLowerCase().replace(/\.$/, '');

/**
 * What is wrong with a domain's MX records for a pair: MX 10 must be this host, MX 20 the partner.
 * One line per wrong preference; none when both hold. Shared by partner-mx and `labctl drill`.
 */
export function pairMxProblems(published: { exchange: string; priority: number }[], own: string, partner: string): string[] {
  const wrong: string[] = [];
  const at = (pref: number) => published.filter((m) => m.priority === pref).map((m) => norm(m.exchange));
  if (!at(10).includes(norm(own))) wrong.push(`MX 10 should be ${own} (this host), DNS gives ${at(10).join(', ') || 'none'}`);
  if (!at(20).includes(norm(partner))) wrong.push(`MX 20 should be ${partner} (the partner), DNS gives ${at(20).join(', ') || 'none'}`);
  return wrong;
}

export const partnerMx: CheckDef = {
  id: 'partner-mx',
  title: 'DNS: MX 10 this host, MX 20 the partner',
  async run(ctx) {
    const { target, evidence, facts } = ctx;
    const partner = partnerOf(ctx);
    if (!partner) return { status: 'skip', summary: NO_PARTNER };
    const own = norm(target.model?.mailHost ?? (await facts.option('primary_hostname')) ?? '');
    const dns = await resolver(facts);
    const got = await lookup(() => dns.resolveMx(target.domain));
    if (!got.ok) {
      evidence.push({ kind: 'text', label: `MX ${target.domain} (${dns.describe})`, text: `no answer: ${got.code}` });
      if (isNoAnswer(got) && !dns.explicit) return { status: 'warn', summary: `no MX for ${target.domain} from the ${dns.describe} (${got.code}): nothing serves this domain here; give --dns-server ADDRESS` };
      return { status: 'fail', summary: `no MX for ${target.domain} from ${dns.describe}: ${got.code}` };
    }
    const published = [...got.value].sort((a, b) => a.priority - b.priority);
    evidence.push({ kind: 'text', label: `MX ${target.domain} (${dns.describe})`, text: published.map((m) => `${target.domain} MX ${m.priority} ${m.exchange}`).join('\n') });
    const wrong = pairMxProblems(published, own, partner);
    if (wrong.length) return { status: 'fail', summary: wrong.join('; ') };
    return { status: 'pass', summary: `MX 10 ${own}, MX 20 ${partner} (from ${dns.describe})` };
  },
};

export const partnerRcpt: CheckDef = {
  id: 'partner-rcpt',
  title: "the partner accepts mail for this domain (RCPT)",
  async run(ctx) {
    const { target, evidence, remainingMs, signal } = ctx;
    const partner = partnerOf(ctx);
    if (!partner) return { status: 'skip', summary: NO_PARTNER };
    const rcpt = `postmaster@${target.domain}`;
    const s = await smtpSession({
      host: partner,
      port: 25,
      startTls: 'auto',
      localAddress: target.localAddress,
      timeoutMs: Math.min(8000, remainingMs()),
      signal,
      commands: [`MAIL FROM:<${target.user}@${target.domain}>`, `RCPT TO:<${rcpt}>`, 'RSET'],
    });
    evidence.push({ kind: 'transcript', label: `SMTP to ${partner}:25`, text: s.transcript.toString() });
    const reply = s.replies?.[1];
    if (!reply) return { status: 'fail', summary: `no answer to RCPT from ${partner}:25: ${s.error?.message ?? s.replies?.[0]?.text ?? 'session ended'}` };
    const last = reply.text.split('\n').pop();
    if (reply.code === 250) return { status: 'pass', summary: `${partner} accepts ${rcpt}: ${last}` };
    return { status: 'fail', summary: `${partner} refuses ${rcpt}: ${last} (is it configured with --backup-for ${target.domain}?)` };
  },
};

export const partnerStartTls: CheckDef = {
  id: 'partner-starttls',
  title: "the partner offers STARTTLS with a certificate for its own name",
  async run(ctx) {
    const { target, evidence, remainingMs, signal } = ctx;
    const partner = partnerOf(ctx);
    if (!partner) return { status: 'skip', summary: NO_PARTNER };
    const lab = target.caFile ? await readIfExists(target.caFile).catch(() => undefined) : undefined;
    const trust = { ca: [...rootCertificates, ...(lab ? [lab] : [])], hostname: partner, caName: lab ? `${target.caFile} and the system store` : 'the system store' };
    const s = await smtpSession({ host: partner, port: 25, startTls: 'require', localAddress: target.localAddress, timeoutMs: Math.min(8000, remainingMs()), signal, verify: { ca: trust.ca, hostname: partner } });
    evidence.push({ kind: 'transcript', label: `STARTTLS to ${partner}:25`, text: s.transcript.toString() });
    if (!s.tls) return { status: 'fail', summary: `no STARTTLS at ${partner}:25: ${s.error?.response ?? s.error?.message ?? 'not offered'}` };
    const j = judgePartnerCertificate(s.tls, trust);
    return { status: j.status, summary: `${partner}: ${s.tls.protocol} ${s.tls.cipher}; ${j.why}` };
  },
};

/**
 * The partner's certificate, judged as 6-starttls judges this host's: it must name the partner
 * (compared whatever became of the chain). A chain from a CA this host does not know (each
 * machine of a real pair makes its own lab CA) is a warning, not a failure: the name is right, and
 * the partner's CA file, given with --ca, turns it into a verified pass.
 */
export function judgePartnerCertificate(t: TlsInfo, trust: Parameters<typeof judgeCertificate>[1]): { status: 'pass' | 'warn' | 'fail'; why: string } {
  const j = judgeCertificate(t, trust);
  if (j.status === 'fail' && /not signed by a CA/.test(j.why) && !t.nameMismatch) {
    return { status: 'warn', why: `names ${trust.hostname}, but ${j.why.replace(/^not signed/, 'is not signed')}: give the partner's CA with --ca FILE to verify it` };
  }
  return j;
}

/** Where the ETRN client lives when it must run in the host's own view (the lab: from the host's address). */
const ETRN_MODULE = fileURLToPath(new URL('../etrn.js', import.meta.url));

async function etrnFromHost(ctx: CheckContext, partner: string): Promise<EtrnResult> {
  const o = { host: partner, domain: ctx.target.domain, timeoutMs: Math.min(10_000, ctx.remainingMs()) };
  // This process runs on the host itself (a real machine): ask from here. In the lab it runs in
  // the client's namespace, whose address the partner rightly refuses: ask from the host's view.
  if (!ctx.target.name) return askEtrn({ ...o, signal: ctx.signal });
  const script = `import { askEtrn } from ${JSON.stringify(ETRN_MODULE)};\nprocess.stdout.write(JSON.stringify(await askEtrn(${JSON.stringify(o)})));`;
  const r = await ctx.target.view.run(process.execPath, ['--input-type=module', '-e', script], { timeoutMs: o.timeoutMs + 2000 });
  if (r.exitCode !== 0) return { accepted: false, transcript: '', error: `the ETRN client did not run in ${ctx.target.name}'s view: ${r.stderr.trim().split('\n').pop()}` };
  return JSON.parse(r.stdout) as EtrnResult;
}

export const partnerEtrn: CheckDef = {
  id: 'partner-etrn',
  title: 'the partner accepts ETRN for this domain (5c on demand)',
  async run(ctx) {
    const { target, evidence } = ctx;
    const partner = partnerOf(ctx);
    if (!partner) return { status: 'skip', summary: NO_PARTNER };
    const r = await etrnFromHost(ctx, partner);
    evidence.push({ kind: 'transcript', label: `ETRN #${target.domain} to ${partner}:25`, text: r.transcript || r.error || '' });
    if (r.accepted) return { status: 'pass', summary: `${partner} answered ETRN #${target.domain}: ${r.reply!.text.split('\n').pop()}` };
    if (r.reply) return { status: 'fail', summary: `${partner} refused ETRN #${target.domain}: ${r.reply.text.split('\n').pop()} (it allows ETRN only from the address its labctl configure --backup-for ${target.domain} recorded)` };
    return { status: 'fail', summary: `no answer to ETRN from ${partner}:25: ${r.error ?? 'session ended'}` };
  },
};
