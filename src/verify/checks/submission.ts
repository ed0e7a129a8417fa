import { randomBytes } from 'node:crypto';
import { deleteLogin, setLogin } from '../../config/passwd-store.js';
import { run, which, type RunResult } from '../../system/run.js';
import { commandEvidence } from '../facts.js';
import type { CheckContext, CheckDef, CheckVerdict } from '../types.js';

/**
 * Authenticated submission on 587 (STARTTLS) and 465 (TLS), tried with swaks as a mail client
 * would: AUTH is not offered before TLS, a wrong password is refused, the right one is accepted
 * and may relay, and a client that has not logged in may not relay, even from localhost. The
 * login checks add a throwaway login (a random password) to the password file and remove it.
 */
const SUBMISSION = 587;

/** swaks marks a server's error reply "<**" (plaintext) or "<~*" (inside TLS). */
const ERROR_LINE = /^\s*<(?:\*\*|~\*)\s+/;
const ERROR_5XX = /^\s*<(?:\*\*|~\*)\s+5\d\d/;

/**
 * The 5xx reply in a swaks transcript as one line: a multi-line reply ("550-Relaying ... needs
 * a login:" then "550 use STARTTLS ...") joined, its code once; undefined when there is none.
 */
export function refusalText(transcript: string): string | undefined {
  const lines = transcript.split('\n').filter((l) => ERROR_5XX.test(l)).map((l) => l.replace(ERROR_LINE, '').trim());
  if (!lines.length) return undefined;
  return lines.map((l, i) => (i === 0 ? l.replace(/^(\d{3})-/, '$1 ') : l.replace(/^\d{3}[- ]/, ''))).join(' ');
}

/** swaks' exit codes (its manual): 0 done, 24 no recipient accepted, 28 AUTH failed. */
const SWAKS = { ok: 0, noRecipient: 24, authFailed: 28 } as const;

/** The password a throwaway login sends shows in AUTH lines; they are kept as "****". */
export function redactAuth(text: string): string {
  const out: string[] = [];
  let afterChallenge = false;
  for (const line of text.split('\n')) {
    if (/^\s*[-~]> AUTH (PLAIN|LOGIN)\b/.test(line)) out.push(line.replace(/(AUTH (?:PLAIN|LOGIN))\s+\S+/, '$1 ****'));
    else if (afterChallenge && /^\s*[-~]> /.test(line)) out.push(line.replace(/([-~]> ).*/, '$1****'));
    else out.push(line);
    afterChallenge = /^\s*<[-~]\s+334\b/.test(line);
  }
  return out.join('\n');
}

const redactResult = (r: RunResult, secrets: string[]): RunResult => {
  const hide = (s: string) => secrets.reduce((acc, x) => (x ? acc.split(x).join('****') : acc), redactAuth(s));
  return { ...r, command: hide(r.command), stdout: hide(r.stdout), stderr: hide(r.stderr) };
};

async function swaks(ctx: CheckContext, label: string, args: string[], secrets: string[] = []): Promise<RunResult> {
  const { target } = ctx;
  const base = ['--server', target.address, '--timeout', '8', '--from', `${target.user}@${target.domain}`, ...(target.localAddress ? ['--local-interface', target.localAddress] : [])];
  const r = await run('swaks', [...base, ...args], { allowFailure: true, timeoutMs: Math.max(1000, Math.min(20_000, ctx.remainingMs() - 500)) });
  const shown = redactResult(r, secrets);
  ctx.evidence.push(commandEvidence(label, shown));
  return shown;
}

/** The EHLO reply's extensions in the last EHLO of a swaks transcript (after STARTTLS when there was one). */
export function lastEhloAuth(transcript: string): string[] | undefined {
  const lines = transcript.split('\n');
  let auth: string[] | undefined;
  let inEhlo = false;
  for (const line of lines) {
    if (/^\s*[-~]> EHLO /.test(line)) {
      inEhlo = true;
      auth = [];
      continue;
    }
    const m = /^\s*<[-~]\s+250[- ](.*)$/.exec(line);
    if (inEhlo && m) {
      const ext = /^AUTH[ =](.*)$/i.exec(m[1].trim());
      if (ext) auth!.push(...ext[1].trim().split(/\s+/));
      if (/^\s*<[-~]\s+250 /.test(line)) inEhlo = false;
    }
  }
  return auth;
}

/** Whether this host is set up for submission at all; a reason to skip (or fail) when not. */
async function precondition(ctx: CheckContext): Promise<CheckVerdict | undefined> {
  if (!(await which('swaks'))) return { status: 'fail', summary: 'swaks is not installed: apt-get install swaks (scripts/setup.sh installs it)' };
  const { listen } = await ctx.facts.ports();
  if (!listen.includes(SUBMISSION)) return { status: 'skip', summary: `port ${SUBMISSION} is not in daemon_smtp_ports: no submission on this host` };
  if (!((await ctx.facts.option('tls_advertise_hosts')) ?? '').trim()) return { status: 'skip', summary: 'no STARTTLS on this host (tls_advertise_hosts is empty): submission logs in only inside TLS' };
  const auths = /^Authenticators:(.*)$/m.exec((await ctx.facts.version()).raw.stdout)?.[1]?.trim().split(/\s+/) ?? [];
  if (!auths.includes('plaintext')) return { status: 'fail', summary: `this Exim has no plaintext authenticator (exim -bV: "Authenticators:${auths.length ? ` ${auths.join(' ')}` : ''}"): labctl install builds it with AUTH_PLAINTEXT=yes` };
  return undefined;
}

export const submissionAuthTls: CheckDef = {
  id: 'submission-auth-tls',
  title: 'submission (587): AUTH PLAIN and LOGIN offered only after STARTTLS',
  async run(ctx) {
    const pre = await precondition(ctx);
    if (pre) return pre;
    const plain = await swaks(ctx, `EHLO on ${SUBMISSION} before TLS`, ['--port', String(SUBMISSION), '--quit-after', 'EHLO']);
    const before = lastEhloAuth(plain.stdout);
    if (!before) return { status: 'fail', summary: `no EHLO reply on port ${SUBMISSION}: ${plain.stderr || plain.stdout.split('\n').pop()}` };
    if (before.length) return { status: 'fail', summary: `AUTH ${before.join(' ')} is offered on port ${SUBMISSION} before TLS: passwords would cross the network in clear` };
    const tls = await swaks(ctx, `EHLO on ${SUBMISSION} after STARTTLS`, ['--port', String(SUBMISSION), '--tls', '--quit-after', 'EHLO']);
    const after = lastEhloAuth(tls.stdout) ?? [];
    const missing = ['PLAIN', 'LOGIN'].filter((m) => !after.includes(m));
    if (tls.exitCode !== SWAKS.ok || missing.length) return { status: 'fail', summary: `after STARTTLS on ${SUBMISSION}: ${missing.length ? `AUTH ${missing.join(' and ')} not offered (offered: ${after.join(' ') || 'none'})` : `swaks exited ${tls.exitCode}`}` };
    return { status: 'pass', summary: `no AUTH before TLS on ${SUBMISSION}; AUTH ${after.join(' ')} after STARTTLS` };
  },
};

/**
 * The throwaway login's password: hex, so it never starts with "-" (base64url did one time in 64,
 * and swaks then read `--auth-password -...` as an option and exited 1: the check failed now
 * and then for no fault of Exim's).
 */
export const throwawayPassword = () => randomBytes(16).toString('hex');

export const submissionLogin: CheckDef = {
  id: 'submission-login',
  title: 'submission (587, 465): a wrong password refused; the right one accepted and may relay',
  async run(ctx) {
    const pre = await precondition(ctx);
    if (pre) return pre;
    const name = `labctl-verify-${randomBytes(4).toString('hex')}`;
    const password = throwawayPassword();
    const wrong = `${password}-wrong`;
    const to = `labctl-verify@${ctx.target.thirdPartyDomain}`;
    const { tlsOnConnect } = await ctx.facts.ports();
    await setLogin(name, password, 'add');
    try {
      const bad = await swaks(ctx, `${SUBMISSION}: STARTTLS, AUTH PLAIN with a wrong password`, ['--port', String(SUBMISSION), '--tls', '--auth', 'PLAIN', '--auth-user', name, '--auth-password', wrong, '--to', to, '--quit-after', 'AUTH'], [wrong, password]);
      if (bad.exitCode !== SWAKS.authFailed || !ERROR_5XX.test(bad.stdout.split('\n').find((l) => /535/.test(l)) ?? '')) return { status: 'fail', summary: `a wrong password was not refused with 535 (swaks exit ${bad.exitCode})` };
      const tries: { label: string; args: string[] }[] = [
        { label: `${SUBMISSION}: STARTTLS, AUTH PLAIN, relay to ${to}`, args: ['--port', String(SUBMISSION), '--tls', '--auth', 'PLAIN'] },
        { label: `${SUBMISSION}: STARTTLS, AUTH LOGIN, relay to ${to}`, args: ['--port', String(SUBMISSION), '--tls', '--auth', 'LOGIN'] },
        ...(tlsOnConnect[0] ? [{ label: `${tlsOnConnect[0]}: TLS on connect, AUTH PLAIN, relay to ${to}`, args: ['--port', String(tlsOnConnect[0]), '--tls-on-connect', '--auth', 'PLAIN'] }] : []),
      ];
      for (const t of tries) {
        const r = await swaks(ctx, t.label, [...t.args, '--auth-user', name, '--auth-password', password, '--to', to, '--quit-after', 'RCPT'], [password]);
        if (r.exitCode !== SWAKS.ok) {
          const why = r.stdout.split('\n').filter((l) => ERROR_LINE.test(l)).pop()?.trim() ?? `swaks exit ${r.exitCode}`;
          return { status: 'fail', summary: `${t.label}: ${r.exitCode === SWAKS.authFailed ? 'the right password was refused' : 'not accepted'}: ${why}` };
        }
      }
      return { status: 'pass', summary: `wrong password refused (535); the right one accepted with PLAIN and LOGIN on ${SUBMISSION}${tlsOnConnect[0] ? ` and PLAIN on ${tlsOnConnect[0]}` : ''}, and RCPT to ${ctx.target.thirdPartyDomain} accepted (nothing sent)` };
    } finally {
      await deleteLogin(name);
    }
  },
};

export const submissionRelayRefused: CheckDef = {
  id: 'submission-relay-refused',
  title: 'submission (587): relaying without a login is refused, even from this host',
  async run(ctx) {
    const pre = await precondition(ctx);
    if (pre) return pre;
    const to = `labctl-verify@${ctx.target.thirdPartyDomain}`;
    const r = await swaks(ctx, `${SUBMISSION}: STARTTLS, no AUTH, relay to ${to}`, ['--port', String(SUBMISSION), '--tls', '--to', to, '--quit-after', 'RCPT']);
    const refusal = refusalText(r.stdout);
    if (r.exitCode === SWAKS.ok) return { status: 'fail', summary: `OPEN RELAY on ${SUBMISSION}: RCPT to ${to} accepted without a login` };
    if (r.exitCode !== SWAKS.noRecipient || !refusal) return { status: 'fail', summary: `no 5xx refusal of RCPT to ${to} (swaks exit ${r.exitCode})` };
    if (!/needs a login/.test(refusal)) return { status: 'fail', summary: `RCPT to ${to} refused, but not for want of a login: ${refusal}` };
    return { status: 'pass', summary: `refused without a login: ${refusal}` };
  },
};
