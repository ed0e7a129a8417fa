import { getCiphers } from 'node:tls';
import { smtpSession } from '../smtp.js';
import type { CheckDef } from '../types.js';

/**
 * `tls-policy`: what a scanner (testssl.sh, internet.nl) would hold against the server: TLS 1.0
 * and 1.1 must be refused, and every TLS 1.2 suite the server accepts must have forward secrecy
 * (an ECDHE or DHE key exchange). Each version and each TLS 1.2 suite Node's OpenSSL knows is
 * offered alone, on SMTPS when the host has it, else after STARTTLS; TLS 1.3 suites are all
 * forward-secret.
 */

/** TLS 1.2 suites worth probing: everything but PSK and SRP (no shared secrets here) and TLS 1.3 names. */
export const TLS12_SUITES = getCiphers()
  .filter((c) => !/psk|srp|^tls_/.test(c))
  .map((c) => c.toUpperCase());

export const forwardSecret = (suite: string) => /^(ECDHE|DHE)-/.test(suite);

export const tlsPolicy: CheckDef = {
  id: 'tls-policy',
  title: 'TLS 1.0 and 1.1 refused; every TLS 1.2 suite offered has forward secrecy',
  async run(ctx) {
    const { target, facts } = ctx;
    const advertise = (await facts.option('tls_advertise_hosts')) ?? '';
    const { tlsOnConnect } = await facts.ports();
    const smtpsPort = target.smtpsPort ?? tlsOnConnect[0];
    if (!advertise.trim() && !smtpsPort) return { status: 'skip', summary: 'TLS is off on this host' };
    ctx.evidence.push({ kind: 'text', label: 'exim -bP', text: `openssl_options = ${(await facts.option('openssl_options')) ?? ''}\ntls_require_ciphers = ${(await facts.option('tls_require_ciphers')) ?? ''}` });
    const where = smtpsPort ? `SMTPS port ${smtpsPort}` : `STARTTLS on ${target.smtpPort}`;
    const accepts = async (tlsOptions: Parameters<typeof smtpSession>[0]['tlsOptions']) => {
      const s = await smtpSession({
        host: target.address,
        ...(smtpsPort ? { port: smtpsPort, implicitTls: true } : { port: target.smtpPort, startTls: 'require' as const }),
        localAddress: target.localAddress,
        timeoutMs: Math.max(500, Math.min(3000, ctx.remainingMs())),
        signal: ctx.signal,
        tlsOptions,
      });
      return s.tls;
    };
    const lines: string[] = [];
    const oldVersions: string[] = [];
    for (const v of ['TLSv1', 'TLSv1.1'] as const) {
      // SECLEVEL=0: let this client offer what OpenSSL 3 would refuse by itself, so it is the server that decides.
      const t = await accepts({ minVersion: v, maxVersion: v, ciphers: 'DEFAULT@SECLEVEL=0' });
      lines.push(`${v}: ${t ? `ACCEPTED (${t.cipher})` : 'refused'}`);
      if (t) oldVersions.push(v);
    }
    const accepted: string[] = [];
    for (const suite of TLS12_SUITES) {
      const t = await accepts({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: `${suite}:@SECLEVEL=0` });
      if (t) accepted.push(suite);
    }
    lines.push(`TLS 1.2 suites probed: ${TLS12_SUITES.length}; accepted: ${accepted.join(' ') || 'none'}`);
    const tls13 = await accepts({ minVersion: 'TLSv1.3' });
    lines.push(`TLSv1.3: ${tls13 ? `accepted (${tls13.cipher})` : 'refused'}`);
    ctx.evidence.push({ kind: 'text', label: `probes on ${where}, one version or suite at a time`, text: lines.join('\n') });
    return judge(where, oldVersions, accepted, !!tls13);
  },
};

export function judge(where: string, oldVersions: string[], accepted: string[], tls13: boolean): { status: 'pass' | 'fail'; summary: string } {
  const weak = accepted.filter((s) => !forwardSecret(s));
  const problems = [
    ...(oldVersions.length ? [`accepts ${oldVersions.join(' and ')}`] : []),
    ...(weak.length ? [`TLS 1.2 suites without forward secrecy: ${weak.join(' ')}`] : []),
    ...(!accepted.length && !tls13 ? ['no TLS 1.2 or 1.3 suite accepted'] : []),
  ];
  if (problems.length) return { status: 'fail', summary: `${where}: ${problems.join('; ')} (set openssl_options and tls_require_ciphers)` };
  return { status: 'pass', summary: `${where}: TLS 1.0 and 1.1 refused; TLS 1.2 only ${accepted.join(' ') || '(none)'}; TLS 1.3 ${tls13 ? 'offered' : 'not offered'}` };
}

