import { headerValue } from '../mailbox.js';
import { resolver } from '../expected.js';
import type { CheckDef } from '../types.js';

/**
 * DMARC on a real message (beyond the write-up): a message from the partner host, as this host delivered
 * it, judged by mailauth (an implementation nobody here wrote) with the envelope the partner
 * used: SPF and DKIM must pass and align with the From: domain, so DMARC passes. Where Exim is
 * built with DMARC, its own verdict is the dmarc= of the Authentication-Results header it added.
 * Off the lab there is no partner to send one, and the check warns.
 */
interface AuthResult {
  dmarc?: { status?: { result?: string; comment?: string }; alignment?: { spf?: { result?: string | false }; dkim?: { result?: string | false } }; domain?: string };
  spf?: { status?: { result?: string } };
  dkim?: { results?: Array<{ status?: { result?: string; aligned?: string | false }; signingDomain?: string }> };
  headers?: string;
}

export const dmarcResult: CheckDef = {
  id: 'dmarc-result',
  title: "a partner's message as delivered: SPF and DKIM aligned, DMARC pass (mailauth, and Exim's own result)",
  async run(ctx) {
    const lab = ctx.target.lab;
    if (!lab) return { status: 'warn', summary: 'no partner host here to send a message: labctl verify --lab judges one from the lab partner' };
    const d = await lab.partnerDelivery();
    if (!d.message) return { status: 'fail', summary: `no message from ${d.partner} to judge: ${d.error ?? 'not delivered'}` };
    const headers = d.message.split('\n\n')[0]!;
    ctx.evidence.push({ kind: 'text', label: `the message from ${d.partner}, as delivered (headers)`, text: headers });
    const dns = await resolver(ctx.facts);
    // mailauth is loaded when a check needs it, not when the verify command is parsed.
    const { authenticate } = await import('mailauth');
    const r = (await authenticate(d.message.replace(/\r?\n/g, '\r\n'), {
      ip: d.ip,
      helo: d.helo,
      sender: d.sender,
      mta: ctx.target.model?.mailHost ?? ctx.target.domain,
      resolver: dns.mailauth,
    })) as AuthResult;
    ctx.evidence.push({ kind: 'text', label: `mailauth authenticate (ip ${d.ip}, helo ${d.helo}, sender ${d.sender}; ${dns.describe})`, text: r.headers ?? '(no result)' });
    const spf = r.spf?.status?.result ?? 'none';
    const dkim = r.dkim?.results?.find((x) => x.status?.result === 'pass');
    const dmarc = r.dmarc?.status?.result ?? 'none';
    const spfAligned = !!r.dmarc?.alignment?.spf?.result;
    const dkimAligned = !!r.dmarc?.alignment?.dkim?.result;
    const exim = /\bdmarc=(\w+)/.exec(headerValue(headers, 'Authentication-Results') ?? '')?.[1];
    const eximSays = exim ? `Exim's own result dmarc=${exim}` : 'Exim is built --without dmarc, so it gave no result of its own';
    const facts = `mailauth: spf=${spf}${spfAligned ? ' (aligned)' : ''}, dkim=${dkim ? `pass d=${dkim.signingDomain}` : 'none'}${dkimAligned ? ' (aligned)' : ''}, dmarc=${dmarc}`;
    if (dmarc !== 'pass' || !spfAligned || !dkimAligned) return { status: 'fail', summary: `${facts}: ${d.partner}'s mail is not vouched for by both aligned SPF and aligned DKIM` };
    if (exim && exim !== 'pass') return { status: 'fail', summary: `${facts}; but ${eximSays}` };
    return { status: 'pass', summary: `${facts}; ${eximSays}` };
  },
};
