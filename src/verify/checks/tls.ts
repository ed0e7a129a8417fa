import { renderMessage, uniqueMessageId } from '../message.js';
import { smtpSession, type SmtpSessionResult, type TlsInfo } from '../smtp.js';
import type { CheckContext, CheckDef, CheckOutcome } from '../types.js';

/**
 * Task 3 (6, 7a, 7b): STARTTLS on 25, TLS on connect (465), and TLS-only. Each session is real
 * (nodemailer's SMTP client and Node's TLS); the evidence is the transcript and the certificate.
 * When the host's configuration has TLS off and labctl's model agrees, these checks skip; when
 * the model asks for TLS and Exim does not offer it, they fail.
 */

function describe(t: TlsInfo): string {
  return `${t.protocol} ${t.cipher}; certificate ${t.subject || '(no subject)'}, issuer ${t.issuer || '?'}, expires ${t.validTo || '?'}`;
}

function tlsOutcome(s: SmtpSessionResult, what: string): CheckOutcome {
  if (!s.tls) return { status: 'fail', summary: `${what}: ${s.error?.response ?? s.error?.message ?? 'no TLS'}` };
  const expires = Date.parse(s.tls.validTo);
  if (Number.isFinite(expires) && expires < Date.now()) return { status: 'warn', summary: `${what}: certificate expired ${s.tls.validTo}; ${describe(s.tls)}` };
  return { status: 'pass', summary: `${what}: ${describe(s.tls)}` };
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
    const s = await smtpSession({ host: target.address, port: target.smtpPort, startTls: 'require', localAddress: target.localAddress, timeoutMs: Math.min(5000, ctx.remainingMs()), signal: ctx.signal });
    record(ctx, `STARTTLS session on port ${target.smtpPort}`, s);
    return tlsOutcome(s, `STARTTLS on ${target.smtpPort}`);
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
      if (want === 'starttls+smtps') return { status: 'fail', summary: 'labctl\'s model says starttls+smtps but tls_on_connect_ports is empty' };
      return { status: 'skip', summary: `SMTPS is not configured on this host (tls_on_connect_ports is empty${want ? `; model tls=${want}` : ''})` };
    }
    if (!target.smtpsPort && !listen.includes(port)) return { status: 'fail', summary: `port ${port} is in tls_on_connect_ports but not in daemon_smtp_ports, so nothing listens on it` };
    const s = await smtpSession({ host: target.address, port, implicitTls: true, localAddress: target.localAddress, timeoutMs: Math.min(5000, ctx.remainingMs()), signal: ctx.signal });
    record(ctx, `SMTPS session on port ${port}`, s);
    return tlsOutcome(s, `TLS on connect, port ${port}`);
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
