/**
 * The pair a drill runs on between two real machines: this host (its configure.json: domain, mail
 * host, users) and the partner that backs it up (what `labctl configure --backup-mx` recorded, or
 * `--partner HOST`). labctl controls only this host; the partner is reached by DNS and SMTP only.
 * Before a drill changes anything, the pair is checked: DNS gives MX 10 to this host and MX 20 to
 * the partner, the partner accepts RCPT for this domain, and (for ETRN) the partner accepts
 * `ETRN #domain`. Each failure is one line naming the record or the reply that is wrong.
 */
import { promises as dnsp } from 'node:dns';
import { LabError } from '../errors.js';
import type { EvidenceItem } from '../evidence/store.js';
import { loadConfigureState } from '../config/state.js';
import { pairMxProblems } from '../verify/checks/partner.js';
import { askEtrn } from '../verify/etrn.js';
import { smtpSession } from '../verify/smtp.js';

export interface MachinePair {
  domain: string;
  mailHost: string;
  /** The local user the drill's mail is for (configure's first user). */
  user: string;
  partner: { mailHost: string; address: string };
}

const norm = (h: string) => h.toLowerCase().replace(/\.$/, '');

export async function machinePair(partnerFlag?: string): Promise<MachinePair> {
  const state = await loadConfigureState();
  if (!state) throw new LabError('this host is not configured yet: the drill needs its domain and users', 'run labctl configure --domain DOMAIN --backup-mx PARTNER first');
  const m = state.model;
  const partnerHost = partnerFlag ?? m.partner ?? m.backupMx[0];
  if (!partnerHost) {
    throw new LabError(`no partner is known for ${m.domain}: the drill needs the host that is its backup MX`, 'give --partner HOST, or run labctl configure --backup-mx HOST');
  }
  const address = await lookup4(partnerHost);
  return { domain: m.domain, mailHost: m.mailHost, user: m.users[0]!, partner: { mailHost: norm(partnerHost), address } };
}

async function lookup4(host: string): Promise<string> {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return host;
  try {
    const [a] = await dnsp.resolve4(host);
    if (a) return a;
  } catch (err) {
    throw new LabError(`DNS: no address for the partner ${host} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'check /etc/resolv.conf and the partner\'s A record');
  }
  throw new LabError(`DNS: no address for the partner ${host}`, "check the partner's A record");
}

/** MX 10 this host, MX 20 the partner: the write-up's 4a, as DNS serves it now. */
export async function checkMx(p: MachinePair): Promise<EvidenceItem> {
  let mx: { exchange: string; priority: number }[];
  try {
    mx = await dnsp.resolveMx(p.domain);
  } catch (err) {
    throw new LabError(`DNS: no MX records for ${p.domain} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'publish the records labctl dns prints, then run the drill again');
  }
  const shown = mx.map((r) => `${r.priority} ${norm(r.exchange)}`).sort().join(', ');
  const [wrong] = pairMxProblems(mx, p.mailHost, p.partner.mailHost);
  if (wrong) throw new LabError(`DNS for ${p.domain}: ${wrong}`, `publish the records labctl dns --domain ${p.domain} --partner ${p.partner.mailHost} prints`);
  return { kind: 'command', label: `DNS: MX records of ${p.domain} (4a)`, command: `dig +short MX ${p.domain}`, exitCode: 0, text: shown };
}

/** The partner accepts RCPT for a local user of this domain (5a on its side), nothing sent. */
export async function checkPartnerAccepts(p: MachinePair, from: string): Promise<EvidenceItem> {
  const to = `${p.user}@${p.domain}`;
  const s = await smtpSession({ host: p.partner.address, port: 25, helo: p.mailHost, timeoutMs: 15_000, commands: [`MAIL FROM:<${from}>`, `RCPT TO:<${to}>`, 'RSET'] });
  const [mail, rcpt] = s.replies ?? [];
  if (!rcpt && s.error) throw new LabError(`the partner ${p.partner.mailHost} (${p.partner.address}:25) did not take the test session: ${s.error.message}`, 'is its Exim running, and is port 25 open between the two machines?');
  if (mail && mail.code !== 250) throw new LabError(`the partner ${p.partner.mailHost} refuses MAIL FROM:<${from}>: ${mail.text.replace(/\s+/g, ' ')}`, 'see its reject log');
  if (!rcpt || rcpt.code !== 250) {
    throw new LabError(
      `the partner ${p.partner.mailHost} does not accept mail for ${p.domain}: RCPT TO:<${to}> got ${rcpt ? rcpt.text.replace(/\s+/g, ' ') : 'no reply'}`,
      `ask your partner to run labctl configure --backup-for ${p.domain}`,
    );
  }
  return { kind: 'transcript', label: `${p.partner.mailHost} accepts RCPT for ${p.domain} (5a)`, text: s.transcript.toString() };
}

/** `ETRN #domain` on the partner (verify's ETRN client): 250 means it starts a delivery run for the domain. */
export async function etrn(p: MachinePair): Promise<{ accepted: boolean; reply?: string; evidence: EvidenceItem }> {
  const r = await askEtrn({ host: p.partner.address, domain: p.domain, helo: p.mailHost });
  return {
    accepted: r.accepted,
    reply: r.reply ? `${r.reply.code} ${r.reply.text.replace(/^\d{3}[ -]/, '')}` : r.error,
    evidence: { kind: 'transcript', label: `ETRN #${p.domain} to ${p.partner.mailHost} (5c)`, text: r.transcript },
  };
}
