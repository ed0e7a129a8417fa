/**
 * Blocks for the records whose typed payload (src/evidence/payloads.ts) deserves more than its
 * raw items: the lab topology, the two drills, the source's signature. Whatever a record holds
 * besides the payload, or a payload of another shape, is shown as recorded.
 */
import { isPayloadSlot, PAYLOAD_SLOTS, readPayload } from '../evidence/payloads.js';
import type { EvidenceRecord } from '../evidence/types.js';
import { DRILL_EXPLAINED } from './answers.js';
import { dataBlocks, itemBlocks, recordBlocks } from './blocks.js';
import { STATUS_LABEL, type Block } from './model.js';
import { timelineFrom } from './timeline.js';
import { topologyFrom } from './topology.js';

export function topologyBlocks(rec: EvidenceRecord): Block[] {
  const topo = topologyFrom(rec);
  if (!topo) return recordBlocks(rec);
  const blocks: Block[] = [{ kind: 'topology', topology: topo }];
  blocks.push({
    kind: 'table',
    caption: 'Hosts',
    headers: ['host', 'role', 'address', 'domain', 'mail host', 'users'],
    rows: topo.hosts.map((h) => [h.name, h.role, h.address ?? '', h.domain ?? '', h.mailHost ?? '', h.users.join(', ')]),
  });
  if (topo.mx.length) {
    blocks.push({
      kind: 'table',
      caption: 'MX records (lower preference is tried first)',
      headers: ['domain', 'preference', 'exchange', 'served by'],
      rows: topo.mx.map((m) => [m.domain, String(m.preference), m.exchange, m.host ?? '']),
    });
  }
  // The zone files and other text evidence; the payload is already drawn and tabled.
  blocks.push(...recordBlocks(rec, (i) => isPayloadSlot(rec, i, 'topology')));
  return blocks;
}

function shortTime(ms: number | undefined, base: number): string {
  if (ms === undefined) return '';
  const iso = new Date(ms).toISOString().slice(11, 23);
  return `${iso} (+${((ms - base) / 1000).toFixed(1)} s)`;
}

/** How many messages the table lists by Message-ID; the rest are counted. */
export const MESSAGE_ROWS = 12;

const FIGURE_ROWS = [
  ['sent', 'messages sent', ''],
  ['heldOnBackup', 'held on the backup', 'accepted by the preference-20 host while the primary was down'],
  ['delivered', 'delivered to the primary', 'unique Message-IDs in the primary\'s mailbox'],
  ['lost', 'lost', ''],
  ['duplicates', 'duplicates', ''],
  ['heldSeconds', 'time held', 'seconds'],
  ['recoverySeconds', 'recovery', 'seconds from the primary\'s return to the last delivery'],
] as const;

export function backupDrillBlocks(rec: EvidenceRecord): Block[] {
  const blocks: Block[] = [{ kind: 'paragraph', text: DRILL_EXPLAINED }];
  const figures = readPayload(rec, 'backupFigures');
  if (figures) {
    const rows = FIGURE_ROWS.map(([key, name, note]) => [name, String(figures[key]), note]);
    if (figures.world === 'machines') {
      rows.push(['where', 'two real machines', `${figures.primary} (this host) and its partner ${figures.backup}, reached by DNS and SMTP only`]);
      rows.push(['delivery', figures.flush === 'etrn' ? 'ETRN (5c)' : "the partner's own retry (4c)", figures.flush === 'etrn' ? `ETRN #domain from ${figures.primary}; the transcript is below` : 'nothing asked: the partner retried by its own rule']);
      if (figures.heldPerMessage?.length) rows.push(['held per message', `${Math.min(...figures.heldPerMessage)}-${Math.max(...figures.heldPerMessage)}`, "seconds, from each message's own Received: headers (the partner's and this host's)"]);
    }
    blocks.push({ kind: 'table', caption: 'Drill figures', headers: ['figure', 'value', 'meaning'], rows });
  }
  const tl = timelineFrom(rec);
  if (tl) {
    blocks.push({ kind: 'timeline', timeline: tl });
    blocks.push({ kind: 'table', caption: 'Drill events', headers: ['time (UTC)', 'event'], rows: tl.events.map((e) => [shortTime(e.at, tl.start), e.label]) });
    const listed = tl.messages.slice(0, MESSAGE_ROWS);
    const msgRows = listed.map((m) => [m.messageId ?? '', shortTime(m.sent, tl.start), shortTime(m.held, tl.start), shortTime(m.delivered, tl.start)]);
    if (tl.messages.length > listed.length) msgRows.push([`... and ${tl.messages.length - listed.length} more`, '', '', '']);
    const source = figures?.world === 'machines' ? "held and delivered times come from each message's Received: headers (whole seconds)" : "held and delivered times come from Exim's logs (log_selector +millisec)";
    blocks.push({ kind: 'table', caption: `Messages (times UTC, offset from the drill's start; ${source})`, headers: ['Message-ID', 'sent', 'held on backup', 'delivered'], rows: msgRows, mono: true });
  }
  for (const item of rec.evidence ?? []) {
    // The figures and the messages are shown above; how the drill ran (phases, rate, hosts, times) stays visible.
    if (figures && isPayloadSlot(rec, item, 'backupFigures')) blocks.push(...dataBlocks(item.label, item.data, FIGURE_ROWS.map(([key]) => key)));
    else if (tl && isPayloadSlot(rec, item, 'backupTimeline')) blocks.push(...dataBlocks(item.label, item.data, ['messages']));
    else blocks.push(...itemBlocks(item));
  }
  return blocks;
}

/** Each of the TLS drill's checks: its verdict and summary, then its evidence. */
export function tlsDrillBlocks(rec: EvidenceRecord): Block[] {
  const drill = readPayload(rec, 'tlsDrill');
  if (!drill) return recordBlocks(rec);
  return [
    ...drill.checks.flatMap((c) => [...itemBlocks({ kind: 'text', label: `${STATUS_LABEL[c.status]} ${c.id}: ${c.title}`, text: c.summary }), ...c.evidence.flatMap(itemBlocks)]),
    ...recordBlocks(rec, (i) => isPayloadSlot(rec, i, 'tlsDrill')),
  ];
}

/**
 * 7c on the wire: the three messages side by side (what was in the clear, whether the marker
 * shows in the capture), tshark's one line per packet, and where the capture is.
 */
export function wireDrillBlocks(rec: EvidenceRecord): Block[] {
  const w = readPayload(rec, 'wireDrill');
  if (!w) return recordBlocks(rec);
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  const rows: [string, string, string, string][] = [
    ['proof holds', yes(w.tls.ok), yes(w.plain.ok), yes(w.smtps.ok)],
    ['marker found in the capture', yes(w.tls.markerFound), w.plain.markerFound ? `yes: packet ${w.plain.packet}, offset ${w.plain.offset}` : 'no', yes(w.smtps.markerFound)],
    ['SMTP in the clear', w.tls.plainCommands.join(' | ') || 'none', 'the whole session', w.smtps.plainCommands.join(' | ') || 'none'],
    ['after that', w.tls.onlyTlsAfterStartTls ? 'only TLS records' : 'NOT only TLS records', '-', w.smtps.tlsFromFirstByte ? 'TLS from the first byte' : 'NOT TLS from the first byte'],
    ['negotiated', `${w.tls.tlsVersion ?? '?'} ${w.tls.cipher ?? ''}`.trim(), 'no TLS', `${w.smtps.tlsVersion ?? '?'} ${w.smtps.cipher ?? ''}`.trim()],
  ];
  return [
    { kind: 'table', caption: 'three messages, one capture', headers: ['', 'STARTTLS (port 25)', 'control: TLS off', 'SMTPS (port 465)'], rows, mono: false },
    { kind: 'code', label: 'tshark -r capture (one line per packet)', text: w.summary.join('\n') },
    { kind: 'code', label: 'the capture, to open in Wireshark', text: w.pcap },
    ...recordBlocks(rec, (i) => isPayloadSlot(rec, i, 'wireDrill') || /tshark summary|^capture/.test(i.label)),
  ];
}

/** The signer and the fingerprints that made the source trusted. */
export function signatureBlocks(rec: EvidenceRecord): Block[] {
  const s = readPayload(rec, 'signature');
  if (!s) return recordBlocks(rec);
  const rows: [string, string][] = [
    ['signer', s.signer],
    ['primary fingerprint', s.primaryFingerprint],
    ['signing key fingerprint', s.signingKeyFingerprint],
    ['by subkey', String(s.bySubkey)],
    ['created', s.created],
    ['trusted as', s.trustedAs],
    ['keyring fingerprints', s.keyringFingerprints.join(', ')],
  ];
  return [
    { kind: 'table', caption: PAYLOAD_SLOTS.signature.label, headers: ['field', 'value'], rows, mono: true },
    ...recordBlocks(rec, (i) => isPayloadSlot(rec, i, 'signature')),
  ];
}
