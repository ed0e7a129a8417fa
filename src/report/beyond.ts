/**
 * The report's section beyond the write-up: DMARC, MTA-STS, TLS-RPT, PTR, the DKIM key
 * and DANE, each record's check, the spoof and DANE drills between the two Exims, and the answer to
 * "what does each record protect against", written from what the drills showed on this run.
 */
import { isPayloadSlot, readPayload, type DaneDrill, type SpoofDrill } from '../evidence/payloads.js';
import type { EvidenceRecord } from '../evidence/types.js';
import { recordBlocks } from './blocks.js';
import type { Block } from './model.js';
import type { SectionSpec } from './spec.js';
import type { Selection } from './select.js';

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function spoofBlocks(rec: EvidenceRecord): Block[] {
  const s = readPayload(rec, 'spoofDrill') ?? readPayload(rec, 'spoofMonitorDrill');
  if (!s) return recordBlocks(rec);
  return [
    {
      kind: 'table',
      caption: `a message "from" the partner, sent by the client: ${s.enforced ? 'DMARC enforced' : 'DMARC recorded only'}`,
      headers: ['sent', 'refused', 'delivered', 'spf', 'dkim', 'dmarc'],
      rows: [[String(s.sent), String(s.refused), String(s.delivered), s.spf, s.dkim, s.dmarc]],
      mono: true,
    },
    ...(s.reason ? [{ kind: 'code' as const, label: 'the refusal', text: s.reason }] : []),
    ...recordBlocks(rec, (i) => isPayloadSlot(rec, i, s.enforced ? 'spoofDrill' : 'spoofMonitorDrill')),
  ];
}

export function daneBlocks(rec: EvidenceRecord): Block[] {
  const d = readPayload(rec, 'daneDrill');
  if (!d) return recordBlocks(rec);
  return [
    {
      kind: 'table',
      caption: `${d.primary}'s certificate swapped, ${d.peer} sending`,
      headers: ['step', 'result', 'time'],
      rows: [
        ['TLSA in DNS after the swap', d.staleTlsa.stale ? `stale: ${d.staleTlsa.served.join(', ')}; the new key needs ${d.staleTlsa.wanted}` : 'NOT stale', '-'],
        [`${d.peer} tries to deliver`, d.deferred.ok ? `deferred: ${d.deferred.reason ?? ''}` : 'NOT deferred', `${secs(d.deferred.afterMs)} after the swap`],
        ['new TLSA published, signed, validated', d.republished.ok ? 'yes' : 'no', `${secs(d.republished.afterMs)} after the deferral`],
        [`${d.peer} tries again`, d.delivered.ok ? (d.delivered.dane ? 'delivered, DS and CV=dane' : 'delivered WITHOUT DANE') : 'NOT delivered', `${secs(d.delivered.afterMs)} after the republish`],
      ],
      mono: false,
    },
    ...recordBlocks(rec, (i) => isPayloadSlot(rec, i, 'daneDrill')),
  ];
}

/** What each record protects against, in the words of this run's drills where they ran. */
export function protectsAgainst(spoof?: SpoofDrill, monitor?: SpoofDrill, dane?: DaneDrill): Block[] {
  const spoofSeen = spoof
    ? ` In this run the client forged a message from the partner's domain: spf=${spoof.spf}, dkim=${spoof.dkim}, dmarc=${spoof.dmarc}, and the receiving Exim ${spoof.refused ? `refused it at DATA ("${spoof.reason ?? 'DMARC reject'}")` : 'did NOT refuse it'}.${monitor ? ` Without enforcement the same forgery was ${monitor.delivered ? 'delivered, marked dmarc=' + monitor.dmarc + ' for the reader to see' : 'not delivered'}.` : ''}`
    : ' (The spoof drill has not run: labctl lab drill spoof.)';
  const daneSeen = dane
    ? ` In this run a certificate from the same CA, valid for every ordinary TLS check, was ${dane.deferred.ok ? 'refused by the sending Exim, which deferred the mail' : 'NOT refused'} because its key did not match the TLSA record; once the new TLSA was published and signed, the next try ${dane.delivered.ok && dane.delivered.dane ? 'delivered with CV=dane' : 'did not deliver with DANE'}.`
    : ' (The DANE drill has not run: labctl lab drill dane.)';
  return [
    { kind: 'paragraph', text: 'What each record protects against:' },
    {
      kind: 'list',
      items: [
        `SPF (Task 7) says which addresses may send for the envelope domain; DKIM signs the message. Neither, alone, is about the From: line the reader sees. DMARC ties them to it: a message passes only when SPF or DKIM passes for the From: domain itself (aligned), and the domain's p=reject tells receivers to refuse the rest. It protects the domain's name against direct forgery.${spoofSeen}`,
        `DANE (TLSA under DNSSEC) protects the hop between mail servers against an attacker on the path who strips STARTTLS or shows another certificate: a sender that validates DNSSEC insists on TLS and on the key the TLSA record names, and defers rather than send elsewhere.${daneSeen}`,
        'MTA-STS does the same for senders without DNSSEC: the policy, fetched over HTTPS with a certificate from a CA the sender trusts, lists the MX hosts that must be reached with verified TLS; the TXT id tells senders when to fetch it again. TLS-RPT names where senders report failed TLS, so the domain hears of an attack or a broken certificate.',
        'PTR (forward-confirmed reverse DNS) lets receivers check that the sending address belongs to the host name it greets with; many refuse mail without it. The DKIM key check guards against the most common DKIM breakage: a published key that is not the one Exim signs with.',
      ],
    },
  ];
}

export function beyondSection(): SectionSpec {
  return {
    title: 'Beyond the write-up: DMARC, DANE, MTA-STS, TLS-RPT, PTR',
    intro: (sel: Selection) => protectsAgainst(readPayload(sel.pick('drill', 'spoof'), 'spoofDrill'), readPayload(sel.pick('drill', 'spoof-monitor'), 'spoofMonitorDrill'), readPayload(sel.pick('drill', 'dane'), 'daneDrill')),
    items: [
      { area: 'verify', id: 'dmarc-record', title: 'DMARC record: published, parsed, the configured policy' },
      { area: 'verify', id: 'dmarc-result', title: "DMARC on a partner's delivered message: SPF and DKIM aligned (mailauth and Exim)" },
      { area: 'drill', id: 'spoof', title: 'Spoof drill, DMARC enforced: the forgery refused at DATA', render: spoofBlocks },
      { area: 'drill', id: 'spoof-monitor', title: 'Spoof drill, DMARC recorded only: delivered with Authentication-Results', render: spoofBlocks },
      { area: 'verify', id: 'dane-tlsa', title: 'DANE: TLSA matches the served certificate, validated (AD), used by the partner (CV=dane)' },
      { area: 'drill', id: 'dane', title: 'DANE drill: a wrong certificate deferred, the republished TLSA delivered', render: daneBlocks },
      { area: 'verify', id: 'mta-sts', title: 'MTA-STS: TXT and policy over verified HTTPS, mx lines cover the MX' },
      { area: 'verify', id: 'tls-rpt', title: 'TLS-RPT record' },
      { area: 'verify', id: 'ptr', title: 'PTR: forward-confirmed reverse DNS matches primary_hostname and the banner' },
      { area: 'verify', id: 'dkim-key-match', title: 'DKIM: the published key is the one Exim signs with' },
    ],
  };
}
