import { rootCertificates } from 'node:tls';
import { readIfExists } from '../../system/files.js';
import { renderMessage, uniqueMessageId } from '../message.js';
import { smtpSession, type SmtpSessionResult, type TlsInfo } from '../smtp.js';
import type { CheckContext, CheckDef, CheckVerdict } from '../types.js';

/**
 * Task 3 (6, 7a, 7b): STARTTLS on 25, TLS on connect (465), and TLS-only. Each session is real
 * (nodemailer's SMTP client and Node's TLS); the evidence is the transcript and the certificate.
 * When the host's configuration has TLS off and labctl's model agrees, these checks skip; when
 * the model asks for TLS and Exim does not offer it, they fail.
 */

function describe(t: TlsInfo): string {
  return `${t.protocol} ${t.cipher}; certificate ${t.subject || '(no subject)'}, issuer ${t.issuer || '?'}, expires ${t.validTo || '?'}`;
}

/** What a certificate is checked against: the lab CA (or --ca) with the system store, and primary_hostname. */
export interface Trust {
  ca: string[];
  hostname: string;
  caName: string;
}

export async function tlsTrust(ctx: CheckContext): Promise<Trust> {
  const hostname = (await ctx.facts.option('primary_hostname'))?.trim() || ctx.target.model?.mailHost || ctx.target.address;
  const caFile = ctx.target.caFile;
  const lab = caFile ? await readIfExists(caFile).catch(() => undefined) : undefined;
  return { ca: [...rootCertificates, ...(lab ? [lab] : [])], hostname, caName: lab ? `${caFile} and the system store` : 'the system store' };
}

/** Why a certificate did not verify, in words, and whether that fails or only warns. */
export function judgeCertificate(t: TlsInfo, trust: Trust): { status: 'pass' | 'warn' | 'fail'; why: string } {
  if (t.authorized) return { status: 'pass', why: `verified against ${trust.caName} for ${trust.hostname}` };
  const code = t.authorizationError ?? 'unknown';
  // A self-signed certificate cannot be verified, but it must still name the host: one made for
  // another name is not this host's, whoever serves it.
  if (code === 'DEPTH_ZERO_SELF_SIGNED_CERT' && t.nameMismatch) return { status: 'fail', why: `self-signed certificate that does not name ${trust.hostname} (${t.nameMismatch})` };
  if (code === 'DEPTH_ZERO_SELF_SIGNED_CERT') return { status: 'warn', why: `self-signed certificate (Exim makes one at run time when no tls_certificate is set); not verifiable (${code})` };
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return { status: 'fail', why: `the certificate does not name ${trust.hostname} (${code})` };
  if (code === 'CERT_HAS_EXPIRED') return { status: 'fail', why: `the certificate has expired (${t.validTo})` };
  if (code === 'CERT_NOT_YET_VALID') return { status: 'fail', why: `the certificate is not valid before ${t.validFrom}` };
  if (/UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT)|SELF_SIGNED_CERT_IN_CHAIN/.test(code)) return { status: 'fail', why: `not signed by a CA in ${trust.caName} (${code})` };
  return { status: 'fail', why: `the certificate did not verify: ${code}` };
}

function tlsOutcome(ctx: CheckContext, s: SmtpSessionResult, what: string, trust: Trust): CheckVerdict {
  if (!s.tls) return { status: 'fail', summary: `${what}: ${s.error?.response ?? s.error?.message ?? 'no TLS'}` };
  const verdict = judgeCertificate(s.tls, trust);
  ctx.evidence.push({ kind: 'text', label: `${what}: certificate verification`, text: `checked for host name ${trust.hostname} against ${trust.caName}: ${verdict.why}` });
  return { status: verdict.status, summary: `${what}: ${describe(s.tls)}; ${verdict.why}` };
}

function record(ctx: CheckContext, label: string, s: SmtpSessionResult) {
  ctx.evidence.push({ kind: 'transcript', label, text: s.transcript.toString() });
  if (s.tls) ctx.evidence.push({ kind: 'data', label: `${label}: TLS`, data: s.tls });
}

const modelTls = (ctx: CheckContext) => ctx.target.model?.tls;

export const startTls: CheckDef = {
  id: '6-starttls',
  title: 'STARTTLS on port 25: protocol, cipher, certificate',
  async run(ctx) {
    const { target, facts } = ctx;
    const advertise = (await facts.option('tls_advertise_hosts')) ?? '';
    ctx.evidence.push({ kind: 'text', label: 'exim -bP', text: `tls_advertise_hosts = ${advertise}\ntls_certificate = ${(await facts.option('tls_certificate')) ?? ''}` });
    if (!advertise.trim()) {
      const want = modelTls(ctx);
      // Show what a client sees: EHLO without STARTTLS.
      const plain = await smtpSession({ host: target.address, port: target.smtpPort, startTls: 'never', localAddress: target.localAddress, timeoutMs: Math.min(4000, ctx.remainingMs()), signal: ctx.signal });
      record(ctx, `session on port ${target.smtpPort} (STARTTLS not offered)`, plain);
      if (want && want !== 'off') return { status: 'fail', summary: `TLS is off in Exim's configuration (tls_advertise_hosts is empty) but labctl's model says tls=${want}` };
      return { status: 'skip', summary: "TLS is off in this host's configuration (tls_advertise_hosts is empty)" };
    }
    const trust = await tlsTrust(ctx);
    const s = await smtpSession({ host: target.address, port: target.smtpPort, startTls: 'require', localAddress: target.localAddress, timeoutMs: Math.min(5000, ctx.remainingMs()), signal: ctx.signal, verify: trust });
    record(ctx, `STARTTLS session on port ${target.smtpPort}`, s);
    return tlsOutcome(ctx, s, `STARTTLS on ${target.smtpPort}`, trust);
  },
};

export const smtps: CheckDef = {
  id: '7a-smtps',
  title: 'TLS on connect (SMTPS, port 465)',
  async run(ctx) {
    const { target, facts } = ctx;
    const { listen, tlsOnConnect } = await facts.ports();
    ctx.evidence.push({ kind: 'text', label: 'exim -bP', text: `daemon_smtp_ports = ${(await facts.option('daemon_smtp_ports')) ?? ''}\ntls_on_connect_ports = ${(await facts.option('tls_on_connect_ports')) ?? ''}` });
    const port = target.smtpsPort ?? tlsOnConnect[0];
    if (!port) {
      const want = modelTls(ctx);
      if (want === 'starttls+smtps' || want === 'dane') return { status: 'fail', summary: `labctl's model says ${want} but tls_on_connect_ports is empty` };
      return { status: 'skip', summary: `SMTPS is not configured on this host (tls_on_connect_ports is empty${want ? `; model tls=${want}` : ''})` };
    }
    if (!target.smtpsPort && !listen.includes(port)) return { status: 'fail', summary: `port ${port} is in tls_on_connect_ports but not in daemon_smtp_ports, so nothing listens on it` };
    const trust = await tlsTrust(ctx);
    const s = await smtpSession({ host: target.address, port, implicitTls: true, localAddress: target.localAddress, timeoutMs: Math.min(5000, ctx.remainingMs()), signal: ctx.signal, verify: trust });
    record(ctx, `SMTPS session on port ${port}`, s);
    return tlsOutcome(ctx, s, `TLS on connect, port ${port}`, trust);
  },
};

export const tlsRequired: CheckDef = {
  id: '7b-tls-required',
  title: 'TLS required: plaintext MAIL FROM refused, the same after STARTTLS accepted',
  async run(ctx) {
    const { target } = ctx;
    const sender = `${target.user}@${target.domain}`;
    const rcpt = sender;
    const message = (how: string) => {
      const messageId = uniqueMessageId(`7b-${how}`, target.domain);
      return { from: sender, to: [rcpt], raw: renderMessage({ from: sender, to: rcpt, subject: `labctl verify 7b (${how})`, messageId }) };
    };
    const opts = { host: target.address, port: target.smtpPort, localAddress: target.localAddress, signal: ctx.signal };
    const plain = await smtpSession({ ...opts, startTls: 'never', timeoutMs: Math.min(4000, ctx.remainingMs()) }, message('plaintext'));
    record(ctx, 'plaintext session (STARTTLS not used)', plain);
    const want = modelTls(ctx);
    if (!plain.connected) return { status: 'fail', summary: `no plaintext session on ${target.smtpPort}: ${plain.error?.message ?? '?'}` };
    if (plain.accepted) {
      if (want === 'required') return { status: 'fail', summary: `plaintext MAIL accepted (${plain.accepted.response}) although labctl's model says tls=required` };
      return { status: 'skip', summary: `TLS is not required on this host${want ? ` (model tls=${want})` : ''}: plaintext mail was accepted, as configured` };
    }
    const refused = `${plain.error?.command ?? '?'} refused in plaintext: ${plain.error?.response ?? plain.error?.message}`;
    if (!plain.error?.responseCode || plain.error.responseCode < 500 || !/MAIL|RCPT/i.test(plain.error.command ?? '')) {
      return { status: 'fail', summary: `plaintext session did not end in a refusal of MAIL or RCPT: ${refused}` };
    }
    const secured = await smtpSession({ ...opts, startTls: 'require', timeoutMs: Math.min(4000, ctx.remainingMs()) }, message('after-starttls'));
    record(ctx, 'the same transaction after STARTTLS', secured);
    if (!secured.accepted) return { status: 'fail', summary: `${refused}; but after STARTTLS also not accepted: ${secured.error?.response ?? secured.error?.message}` };
    return { status: 'pass', summary: `${refused}; after STARTTLS (${secured.tls?.protocol}) accepted: ${secured.accepted.response}` };
  },
};
