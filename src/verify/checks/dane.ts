import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { daneLogFacts, digQuery, spkiSha256, TLSA_PARAMS, tlsaName, type DigAnswer } from '../../config/tlsa.js';
import { NO_ANSWER } from '../resolver.js';
import { loadSmtpConnection } from '../smtp.js';
import type { CheckContext, CheckDef, CheckVerdict } from '../types.js';
import { HINT_DNS } from './published.js';

/**
 * DANE for the mail host: the TLSA 3 1 1 record at _25._tcp.<primary_hostname> matches the key
 * of the certificate Exim actually serves on port 25 (after STARTTLS, read with node:tls). The
 * record is asked with dig (node:dns in Node 20 has no TLSA), in the host's view and at
 * --dns-server when given. Whether the answer was DNSSEC-validated and whether the partner's
 * last delivery used DANE are the lab side's: see `daneLabSide`.
 */

interface Served {
  der?: Buffer;
  subject?: string;
  issuer?: string;
  validTo?: string;
  error?: string;
}

/** The certificate after STARTTLS, from nodemailer's SMTP client; nothing verified, only read. */
async function servedCertificate(ctx: CheckContext, servername: string): Promise<Served> {
  const SMTPConnection = await loadSmtpConnection();
  const { target } = ctx;
  const timeout = Math.min(4000, ctx.remainingMs());
  const conn = new SMTPConnection({
    host: target.address,
    port: target.smtpPort,
    requireTLS: true,
    name: 'labctl-verify.invalid',
    localAddress: target.localAddress,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    tls: { rejectUnauthorized: false, ...(servername ? { servername } : {}) },
  });
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: Served) => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', onAbort);
      conn.close();
      resolve(r);
    };
    const onAbort = () => finish({ error: 'stopped: the check ran out of time' });
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    conn.on('error', (e: Error) => finish({ error: e.message }));
    conn.on('end', () => finish({ error: 'the server closed the connection' }));
    conn.connect(() => {
      const socket = (conn as unknown as { _socket?: TLSSocket })._socket;
      const cert = socket?.getPeerCertificate?.(true);
      if (!cert?.raw) return finish({ error: 'no certificate after STARTTLS' });
      conn.quit();
      finish({ der: cert.raw, validTo: cert.valid_to, subject: Object.entries(cert.subject ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(', '), issuer: Object.entries(cert.issuer ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(', ') });
    });
  });
}

/**
 * The lab's side of DANE (beyond the write-up): the TLSA answer validated by the lab's resolver (AD bit; the
 * authoritative BIND never sets it), and the partner's delivery to this host authenticated by it
 * (its main log: `DS` for DNSSEC-secured lookups and `CV=dane`; only the first message on a
 * connection says so, later ones log `*` and CV=no, so the probe is a fresh delivery). Off the lab
 * neither can be seen, and the check warns instead of passing.
 */
export async function daneLabSide(ctx: CheckContext, name: string, tlsa: DigAnswer): Promise<CheckVerdict & { checked: boolean }> {
  const lab = ctx.target.lab;
  if (!lab) {
    return {
      checked: false,
      status: 'warn',
      summary: `DNSSEC validation of the answer not proved (AD bit ${tlsa.flags.includes('ad') ? 'set' : 'not set'} by this resolver) and no partner's delivery to look at: verify --lab proves both`,
    };
  }
  const validated = await digQuery(ctx.target.view.run.bind(ctx.target.view), name, 'TLSA', lab.resolver);
  ctx.evidence.push({ kind: 'command', label: `query through the lab's validating resolver: ${name} TLSA`, command: validated.command, text: validated.output });
  if (!validated.flags.includes('ad')) {
    return { checked: true, status: 'fail', summary: `the validating resolver ${lab.resolver} did not set AD on ${name} TLSA (${validated.status ?? 'no answer'}): the zone does not validate, so senders will not use DANE` };
  }
  const d = await lab.partnerDelivery();
  ctx.evidence.push({ kind: 'text', label: `${d.partner}'s main log: its delivery to this host`, text: d.logLine ?? `(no delivery line${d.error ? `: ${d.error}` : ''})` });
  if (!d.logLine) return { checked: true, status: 'fail', summary: `AD set; but ${d.partner} logged no delivery to this host${d.error ? ` (${d.error})` : ''}` };
  const { secured, dane } = daneLogFacts(d.logLine);
  if (!secured || !dane) {
    return { checked: true, status: 'fail', summary: `AD set; but ${d.partner}'s delivery did not use DANE (${secured ? 'DS' : 'no DS'}, ${/CV=(\w+)/.exec(d.logLine)?.[0] ?? 'no CV='}): see its main log` };
  }
  return { checked: true, status: 'pass', summary: `validated by the lab's resolver (AD); ${d.partner}'s delivery here used DANE (DS, CV=dane)` };
}

export const daneTlsa: CheckDef = {
  id: 'dane-tlsa',
  title: 'the TLSA record for port 25 matches the certificate Exim serves',
  async run(ctx) {
    const { target, facts, evidence } = ctx;
    const hostname = (await facts.option('primary_hostname'))?.trim() || target.model?.mailHost || target.domain;
    const advertise = ((await facts.option('tls_advertise_hosts')) ?? '').trim();
    if (!advertise) return { status: 'skip', summary: 'no STARTTLS on this host (tls_advertise_hosts is empty): nothing for DANE to pin' };
    const certFile = (await facts.option('tls_certificate'))?.trim();
    const configured = certFile ? await target.view.readFile(certFile).catch(() => undefined) : undefined;
    let configuredDigest: string | undefined;
    try {
      configuredDigest = configured ? spkiSha256(configured) : undefined;
    } catch {
      configuredDigest = undefined;
    }
    const served = await servedCertificate(ctx, hostname);
    const servedDigest = served.der ? spkiSha256(new X509Certificate(served.der).toString()) : undefined;
    evidence.push({
      kind: 'text',
      label: 'certificates (SHA-256 of the DER SubjectPublicKeyInfo)',
      text: [
        `configured: tls_certificate = ${certFile ?? '(none)'}: ${configuredDigest ?? '(unreadable)'}`,
        `served on ${target.address}:${target.smtpPort} after STARTTLS: ${servedDigest ? `${servedDigest}\n  subject ${served.subject}; issuer ${served.issuer}; expires ${served.validTo}` : `(none: ${served.error})`}`,
      ].join('\n'),
    });

    const name = tlsaName(hostname.replace(/\.$/, ''));
    const tlsa = await digQuery(target.view.run.bind(target.view), name, 'TLSA', target.dnsServer);
    evidence.push({ kind: 'command', label: `query: ${name} TLSA`, command: tlsa.command, text: tlsa.output });
    const where = target.dnsServer ? `DNS server ${target.dnsServer}` : 'the system resolver';
    if (tlsa.code === 'ENODIG') return { status: 'warn', summary: `cannot ask for TLSA: dig is not installed (Debian package bind9-dnsutils)` };
    const expected = configuredDigest ? `${TLSA_PARAMS} ${configuredDigest}` : undefined;
    if (!tlsa.records.length) {
      const also = servedDigest ? `the served certificate's key is ${servedDigest.slice(0, 16)}…${configuredDigest && configuredDigest !== servedDigest ? ` (the configured file has ${configuredDigest.slice(0, 16)}…: the daemon still serves an older certificate)` : ''}` : `no certificate served (${served.error})`;
      if (!target.dnsServer && NO_ANSWER.has(tlsa.code ?? '')) return { status: 'warn', summary: `not published here: no TLSA for ${name} from ${where} (${tlsa.code}); labctl dns says "${expected ?? '?'}"; ${also}; ${HINT_DNS}` };
      // DANE is opt-in for a domain: no record is "not using DANE", not a broken one.
      return { status: 'warn', summary: `${where} publishes no TLSA for ${name} (${tlsa.code}): DANE is not in use; labctl dns says "${expected ?? '?'}"; ${also}` };
    }
    if (!servedDigest) return { status: 'fail', summary: `TLSA published, but no certificate could be read on port ${target.smtpPort}: ${served.error}` };
    const want = `${TLSA_PARAMS} ${servedDigest}`;
    if (!tlsa.records.includes(want)) {
      const ours = tlsa.records.filter((r) => r.startsWith(`${TLSA_PARAMS} `));
      return { status: 'fail', summary: `${name} TLSA ${ours.length ? ours.map((r) => `${r.slice(0, 22)}…`).join(', ') : tlsa.records.join(', ')} does not match the served certificate's key (${want.slice(0, 22)}…): stale after a certificate change? run labctl dns and republish` };
    }
    const lab = await daneLabSide(ctx, name, tlsa);
    const matched = `${name} TLSA ${TLSA_PARAMS} ${servedDigest.slice(0, 16)}… matches the certificate served on port ${target.smtpPort} (from ${where})`;
    if (!lab.checked || lab.status !== 'pass') return { status: lab.status === 'fail' ? 'fail' : 'warn', summary: `${matched}; ${lab.summary}` };
    return { status: 'pass', summary: `${matched}; ${lab.summary}` };
  },
};
