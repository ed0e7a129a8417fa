import { isIP } from 'node:net';
import { isNoAnswer, lookup, resolver } from '../expected.js';
import { smtpSession } from '../smtp.js';
import type { CheckDef } from '../types.js';
import { HINT_DNS } from './published.js';

/**
 * Forward-confirmed reverse DNS: the mail host's address has a PTR naming primary_hostname,
 * that name resolves back to the address, and the SMTP greeting carries the same name. Receivers
 * (and the write-up's partner) distrust a sender whose PTR is missing or disagrees.
 */

/** 10.203.14.14 -> 14.14.203.10.in-addr.arpa; IPv6 as nibbles under ip6.arpa. */
export function reverseName(address: string): string {
  if (isIP(address) === 4) return `${address.split('.').reverse().join('.')}.in-addr.arpa`;
  const groups = address.split('::');
  const head = groups[0] ? groups[0].split(':') : [];
  const tail = groups.length > 1 && groups[1] ? groups[1].split(':') : [];
  const full = [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail].map((g) => g.padStart(4, '0')).join('');
  return `${[...full].reverse().join('.')}.ip6.arpa`;
}

const bare = (name: string) => name.toLowerCase().replace(/\.$/, '');

export const ptr: CheckDef = {
  id: 'ptr',
  title: "forward-confirmed reverse DNS of the mail host's address matches primary_hostname and the SMTP banner",
  async run(ctx) {
    const { target, facts, evidence } = ctx;
    const hostname = bare((await facts.option('primary_hostname'))?.trim() || target.model?.mailHost || '');
    // The banner is a local fact; ask for it first so the evidence has it either way.
    const s = await smtpSession({ host: target.address, port: target.smtpPort, startTls: 'never', localAddress: target.localAddress, timeoutMs: Math.min(4000, ctx.remainingMs()), signal: ctx.signal });
    const transcript = s.transcript.toString();
    evidence.push({ kind: 'transcript', label: `SMTP greeting on ${target.address}:${target.smtpPort}`, text: transcript });
    const banner = /^ <- 220[ -](\S+)/m.exec(transcript)?.[1];
    const bannerNote = banner ? (bare(banner) === hostname ? `the banner names ${banner}` : `but the banner names ${banner}`) : `no banner (${s.error?.message ?? 'no greeting'})`;

    const address = target.model?.address ?? (/^(127\.|::1$)/.test(target.address) ? undefined : target.address);
    evidence.push({ kind: 'text', label: 'what is compared', text: `primary_hostname = ${hostname}\nmail host address = ${address ?? '(unknown: no address in the model, and verify connects over loopback)'}\nbanner host = ${banner ?? '(none)'}` });
    if (!address) return { status: 'warn', summary: `no address to look up: the model has no address for ${hostname} and verify connects to ${target.address}; give the address to labctl configure (--address) or use verify --lab; ${bannerNote}` };

    const dns = await resolver(facts);
    const rev = reverseName(address);
    const got = await lookup(async () => (await dns.mailauth(rev, 'PTR')) as string[]);
    evidence.push({ kind: 'text', label: `query: ${rev} PTR (${dns.describe})`, text: got.ok ? got.value.join('\n') || '(none)' : `no answer: ${got.code}` });
    if (!got.ok || !got.value.length) {
      if (isNoAnswer(got) && !dns.explicit) return { status: 'warn', summary: `not published here: no PTR for ${address} from the ${dns.describe} (${got.ok ? 'none' : got.code}); ${HINT_DNS}; ${bannerNote}` };
      return { status: 'fail', summary: `no PTR for ${address} from ${dns.describe}${got.ok ? '' : ` (${got.code})`}` };
    }
    const names = got.value.map(bare);
    if (!names.includes(hostname)) return { status: 'fail', summary: `PTR of ${address} is ${names.join(', ')}, not primary_hostname ${hostname}` };
    const family = isIP(address) === 6 ? 'AAAA' : 'A';
    const fwd = await lookup(async () => (await dns.mailauth(hostname, family)) as string[]);
    evidence.push({ kind: 'text', label: `query: ${hostname} ${family} (${dns.describe})`, text: fwd.ok ? fwd.value.join('\n') : `no answer: ${fwd.code}` });
    if (!fwd.ok || !fwd.value.includes(address)) return { status: 'fail', summary: `PTR of ${address} is ${hostname}, but ${hostname} ${family} is ${fwd.ok ? fwd.value.join(', ') || 'empty' : fwd.code}: not forward-confirmed` };
    if (!banner) return { status: 'fail', summary: `${address} <-> ${hostname} is forward-confirmed, but the SMTP greeting could not be read: ${s.error?.message ?? '?'}` };
    if (bare(banner) !== hostname) return { status: 'fail', summary: `${address} <-> ${hostname} is forward-confirmed, but the SMTP banner names ${banner}` };
    return { status: 'pass', summary: `${address} -> PTR ${hostname} -> ${family} ${address}; primary_hostname and the banner say ${hostname} (from ${dns.describe})` };
  },
};
