import { isIP } from 'node:net';
import { hostCheck } from '../host-check.js';
import { smtpSession } from '../smtp.js';
import type { SmtpReply } from '../transcript.js';
import type { CheckContext, CheckDef } from '../types.js';

/**
 * Task 5a and the open-relay test, from a client address outside relay_from_hosts: the partner's
 * domain is accepted (this host is its backup MX), any other domain is refused.
 *
 * `exim -bh ADDRESS` plays the session as if from an outside address, but it cannot start TLS.
 * Where TLS is required (--tls required), MAIL is refused before the relay rule is ever reached,
 * so the same transaction goes over real SMTP with STARTTLS, from an address of this machine
 * that is not in relay_from_hosts (the lab's client, or the mail host's own address).
 */

const rcptSession = (sender: string, rcpt: string) => ['EHLO labctl-verify.invalid', `MAIL FROM:<${sender}>`, `RCPT TO:<${rcpt}>`, 'QUIT'];

const isLoopback = (a: string) => a === '::1' || a.startsWith('127.') || a === 'localhost';

export interface RelayProbe {
  /** How the session ran, for the summary: "from 192.0.2.25 (exim -bh)" or "from 10.0.0.5 over STARTTLS". */
  from: string;
  mail?: SmtpReply;
  rcpt?: SmtpReply;
  /** Why the transaction could not be tried at all. */
  untested?: string;
}

/** MAIL refused because the session is not encrypted: the TLS-required ACL, not the relay rule. */
export const refusedForTls = (reply: SmtpReply | undefined) => !!reply && reply.code >= 500 && /TLS|STARTTLS|encrypt/i.test(reply.text);

/** MAIL FROM and RCPT TO as an outside client, in the way this host's TLS mode allows. */
export async function relayProbe({ target, evidence, facts, remainingMs, signal }: CheckContext, rcpt: string): Promise<RelayProbe> {
  const sender = `${target.user}@${target.domain}`;
  const s = await hostCheck(facts, target.outsideAddress, rcptSession(sender, rcpt), Math.min(8000, remainingMs()));
  evidence.push(...s.evidence);
  const mail = s.replies[1]?.reply;
  if (!refusedForTls(mail)) return { from: `${target.outsideAddress} (exim -bh)`, mail, rcpt: s.replies[2]?.reply };

  // TLS is required here: the relay rule is only reached after STARTTLS, on a real connection.
  const model = target.model?.address;
  const host = isLoopback(target.address) && model ? model : target.address;
  const source = target.localAddress ?? (isLoopback(target.address) && model ? model : undefined);
  if (!source || isLoopback(source) || isIP(source) === 0) {
    return { from: 'nowhere', untested: `TLS is required (exim -bh cannot start TLS: ${mail!.text.split('\n').pop()}), and there is no address outside relay_from_hosts to connect from: give the mail host's address to labctl configure (--address)` };
  }
  const r = await smtpSession({
    host,
    port: target.smtpPort,
    startTls: 'require',
    localAddress: source,
    timeoutMs: Math.min(8000, remainingMs()),
    signal,
    commands: [`MAIL FROM:<${sender}>`, `RCPT TO:<${rcpt}>`, 'RSET'],
  });
  evidence.push({ kind: 'transcript', label: `SMTP from ${source} to ${host}:${target.smtpPort} with STARTTLS (TLS is required here)`, text: r.transcript.toString() });
  const reply = (i: number) => (r.replies?.[i] ? { code: r.replies[i]!.code, text: r.replies[i]!.text } : undefined);
  if (!r.tls) return { from: `${source} over STARTTLS`, untested: `no TLS session with ${host}:${target.smtpPort} from ${source}: ${r.error?.message ?? 'STARTTLS not offered'}` };
  return { from: `${source} over STARTTLS`, mail: reply(0), rcpt: reply(1) };
}

export const backupRelay: CheckDef = {
  id: '5a-backup-relay',
  title: "the partner's domain is accepted for relay (backup MX)",
  async run(ctx) {
    const { target, evidence, facts } = ctx;
    const relayTo = await facts.option('relay_to_domains');
    evidence.push({ kind: 'text', label: 'exim -bP relay_to_domains', text: `relay_to_domains = ${relayTo ?? ''}` });
    if (!target.partnerDomains.length) return { status: 'skip', summary: 'this host backs up no partner domain (no backupFor in the model, no --backup-for)' };
    const results: string[] = [];
    const bad: string[] = [];
    const unsure: string[] = [];
    let from = target.outsideAddress;
    for (const domain of target.partnerDomains) {
      const rcpt = `postmaster@${domain}`;
      const p = await relayProbe(ctx, rcpt);
      from = p.from;
      if (p.untested) return { status: 'warn', summary: `relaying not tested: ${p.untested}` };
      const reply = p.rcpt;
      const text = reply?.text.split('\n').pop() ?? `no reply (MAIL FROM: ${p.mail?.text ?? 'no reply'})`;
      results.push(`${rcpt}: ${text}`);
      if (reply?.code === 250) continue;
      // Recipient verification routes the partner's domain through DNS; without its MX records
      // Exim defers (451) or cannot route it: the relay permission itself is not the problem then.
      if (reply && (reply.code >= 400 && reply.code < 500 || /unrouteable|verify/i.test(reply.text)) && !/relay not permitted/i.test(reply.text)) unsure.push(`${rcpt}: ${text}`);
      else bad.push(`${rcpt}: ${text}`);
    }
    if (bad.length) return { status: 'fail', summary: `refused from ${from}: ${bad.join('; ')}` };
    if (unsure.length) return { status: 'warn', summary: `relay permitted, but recipient verification did not complete (the partner's MX needs DNS; try --dns-server or verify --lab): ${unsure.join('; ')}` };
    return { status: 'pass', summary: `accepted from ${from}: ${results.join('; ')}` };
  },
};

export const relayRefused: CheckDef = {
  id: 'relay-refused',
  title: 'a third-party domain is refused (no open relay)',
  async run(ctx) {
    const { target } = ctx;
    const rcpt = `open-relay-test@${target.thirdPartyDomain}`;
    const p = await relayProbe(ctx, rcpt);
    if (p.untested) return { status: 'warn', summary: `relaying not tested: ${p.untested}` };
    const reply = p.rcpt;
    const text = reply?.text.split('\n').pop() ?? 'no reply';
    if (!reply) return { status: 'fail', summary: `no reply to RCPT from ${p.from} (MAIL FROM: ${p.mail?.text ?? 'no reply'})` };
    // MAIL refused for a reason other than TLS: the relay rule was never reached.
    if (p.mail && p.mail.code >= 400) return { status: 'fail', summary: `MAIL FROM refused from ${p.from} (${p.mail.text.split('\n').pop()}): the relay rule was not reached` };
    if (reply.code === 250) return { status: 'fail', summary: `OPEN RELAY: ${rcpt} accepted from ${p.from}: ${text}` };
    // A refusal only counts when it is the relay rule's: "Unrouteable address" or a failed
    // recipient verification means the relay rule let the domain through.
    if (reply.code >= 500 && /unrouteable|verif|unknown user/i.test(reply.text)) {
      return { status: 'fail', summary: `relaying to ${rcpt} was permitted from ${p.from}; it failed only later: ${text}` };
    }
    if (reply.code >= 500) return { status: 'pass', summary: `${rcpt} refused from ${p.from}: ${text}` };
    return { status: 'fail', summary: `${rcpt} not refused for relaying from ${p.from}: ${text}` };
  },
};
