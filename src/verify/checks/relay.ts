import { hostCheck } from '../host-check.js';
import type { CheckDef } from '../types.js';

/**
 * Task 5a and the open-relay test, from a client address outside relay_from_hosts: the partner's
 * domain is accepted (this host is its backup MX), any other domain is refused.
 */

const rcptSession = (sender: string, rcpt: string) => ['EHLO labctl-verify.invalid', `MAIL FROM:<${sender}>`, `RCPT TO:<${rcpt}>`, 'QUIT'];

export const backupRelay: CheckDef = {
  id: '5a-backup-relay',
  title: "the partner's domain is accepted for relay (backup MX)",
  async run({ target, evidence, facts, remainingMs }) {
    const relayTo = await facts.option('relay_to_domains');
    evidence.push({ kind: 'text', label: 'exim -bP relay_to_domains', text: `relay_to_domains = ${relayTo ?? ''}` });
    if (!target.partnerDomains.length) return { status: 'skip', summary: 'this host backs up no partner domain (no backupFor in the model, no --partner)' };
    const results: string[] = [];
    const bad: string[] = [];
    const unsure: string[] = [];
    for (const domain of target.partnerDomains) {
      const rcpt = `postmaster@${domain}`;
      const s = await hostCheck(facts, target.outsideAddress, rcptSession(`${target.user}@${target.domain}`, rcpt), Math.min(8000, remainingMs()));
      evidence.push(...s.evidence);
      const reply = s.replies[2]?.reply;
      const text = reply?.text.split('\n').pop() ?? 'no reply';
      results.push(`${rcpt}: ${text}`);
      if (reply?.code === 250) continue;
      // Recipient verification routes the partner's domain through DNS; without its MX records
      // Exim defers (451) or cannot route it: the relay permission itself is not the problem then.
      if (reply && (reply.code >= 400 && reply.code < 500 || /unrouteable|verify/i.test(reply.text)) && !/relay not permitted/i.test(reply.text)) unsure.push(`${rcpt}: ${text}`);
      else bad.push(`${rcpt}: ${text}`);
    }
    if (bad.length) return { status: 'fail', summary: `refused from ${target.outsideAddress}: ${bad.join('; ')}` };
    if (unsure.length) return { status: 'warn', summary: `relay permitted, but recipient verification did not complete (the partner's MX needs DNS; try --dns-server or verify --lab): ${unsure.join('; ')}` };
    return { status: 'pass', summary: `accepted from ${target.outsideAddress}: ${results.join('; ')}` };
  },
};

export const relayRefused: CheckDef = {
  id: 'relay-refused',
  title: 'a third-party domain is refused (no open relay)',
  async run({ target, evidence, facts, remainingMs }) {
    const rcpt = `open-relay-test@${target.thirdPartyDomain}`;
    const s = await hostCheck(facts, target.outsideAddress, rcptSession(`${target.user}@${target.domain}`, rcpt), Math.min(8000, remainingMs()));
    evidence.push(...s.evidence);
    const mail = s.replies[1]?.reply;
    const reply = s.replies[2]?.reply;
    const text = reply?.text.split('\n').pop() ?? 'no reply';
    if (!reply) return { status: 'fail', summary: `no reply to RCPT from exim -bh (MAIL FROM: ${mail?.text ?? 'no reply'})` };
    if (reply.code === 250) return { status: 'fail', summary: `OPEN RELAY: ${rcpt} accepted from ${target.outsideAddress}: ${text}` };
    // A refusal only counts when it is the relay rule's: "Unrouteable address" or a failed
    // recipient verification means the relay rule let the domain through.
    if (reply.code >= 500 && /unrouteable|verif|unknown user/i.test(reply.text)) {
      return { status: 'fail', summary: `relaying to ${rcpt} was permitted from ${target.outsideAddress}; it failed only later: ${text}` };
    }
    if (reply.code >= 500) return { status: 'pass', summary: `${rcpt} refused from ${target.outsideAddress}: ${text}` };
    return { status: 'fail', summary: `${rcpt} not refused for relaying from ${target.outsideAddress}: ${text}` };
  },
};
