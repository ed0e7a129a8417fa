/**
 * Builds the report from evidence records: the write-up's structure task by task, each item
 * from the newest record for it, a missing record listed with the command that produces it.
 */
import type { EvidenceItem, EvidenceRecord } from '../evidence/store.js';
import {
  normalizeStatus,
  type Block,
  type PastRun,
  type Report,
  type ReportCounts,
  type ReportItem,
  type ReportSection,
} from './model.js';
import { dataBlocks, humanize, itemBlocks, recordBlocks, recordTexts } from './blocks.js';
import { ANSWER_15, ANSWER_6A, ANSWER_6B, DRILL_EXPLAINED, MX_ORDER, RECEIVED_EXPLAINED, TLS_REQUIRED, TLS_REQUIRED_ACL, TLS_SETUP } from './answers.js';
import { topologyFrom } from './topology.js';
import { figuresFrom, timelineFrom } from './timeline.js';
import { isObj, pick } from './fields.js';

export interface BuildOptions {
  /** Prefer records about this lab host (st14, st18). */
  host?: string;
  /** Show earlier runs of each item. */
  history?: boolean;
  now?: Date;
}

type Area = EvidenceRecord['area'];

interface ItemSpec {
  area: Area;
  id: string;
  title: string;
  /** The command that produces the record; default from area and id. */
  command?: string;
  /** Custom blocks for this record; default: every evidence item. */
  render?: (rec: EvidenceRecord, ctx: Context) => Block[];
}

interface SectionSpec {
  title: string;
  intro?: (ctx: Context) => Block[];
  items: ItemSpec[];
  /** Records of an area not listed elsewhere (configure's steps). */
  areaRest?: { area: Area; command: string; title: string };
  subsections?: SectionSpec[];
}

const para = (text: string): Block => ({ kind: 'paragraph', text });

class Context {
  private readonly byKey = new Map<string, EvidenceRecord[]>();
  readonly used = new Set<EvidenceRecord>();

  constructor(records: EvidenceRecord[], readonly opts: BuildOptions) {
    for (const r of records) {
      if (!r || typeof r.area !== 'string' || typeof r.id !== 'string') continue;
      const key = `${r.area}/${r.id}`;
      const list = this.byKey.get(key) ?? [];
      list.push(r);
      this.byKey.set(key, list);
    }
    for (const list of this.byKey.values()) list.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  }

  all(area: Area, id: string): EvidenceRecord[] {
    return this.byKey.get(`${area}/${id}`) ?? [];
  }

  ids(area: Area): string[] {
    return [...this.byKey.keys()].filter((k) => k.startsWith(`${area}/`)).map((k) => k.slice(area.length + 1));
  }

  /**
   * The record to show: the newest for the chosen host, else the newest not about any host,
   * else (no --host) the newest for the first host by name, so st14 comes before st18. Without
   * --host, a machine's own warn or skip (DNS nobody serves, no partner to back up) gives way to a
   * lab host's pass for the same check: the lab is where those tasks can be shown. A failure is
   * never hidden that way.
   */
  pick(area: Area, id: string): EvidenceRecord | undefined {
    const list = this.all(area, id);
    const host = this.opts.host;
    if (host) {
      const own = list.find((r) => r.host === host);
      if (own) return own;
      return list.find((r) => !r.host);
    }
    const hosts = [...new Set(list.filter((r) => r.host).map((r) => r.host as string))].sort();
    const firstHost = list.find((r) => r.host === hosts[0]);
    const hostless = list.find((r) => !r.host);
    if (!hostless) return firstHost;
    const weak = ['warn', 'skip'].includes(normalizeStatus(hostless.status));
    const labPass = list.find((r) => r.host === hosts[0] && normalizeStatus(r.status) === 'pass') ?? list.find((r) => r.host && normalizeStatus(r.status) === 'pass');
    return weak && labPass ? labPass : hostless;
  }

  /** Earlier runs of the same item on the same host. */
  history(rec: EvidenceRecord): PastRun[] {
    return this.all(rec.area, rec.id)
      .filter((r) => r !== rec && r.host === rec.host && Date.parse(r.at) <= Date.parse(rec.at))
      .map((r) => ({ at: r.at, status: normalizeStatus(r.status), summary: r.summary, host: r.host }));
  }

  defaultCommand(area: Area, id: string): string {
    switch (area) {
      case 'install':
        return id === '1d-makefile' ? 'labctl install (labctl install --show-makefile prints the same table)' : 'labctl install';
      case 'configure':
        return 'labctl configure';
      case 'verify':
        return this.opts.host ? `labctl verify --lab --only ${id}` : `labctl verify --only ${id}`;
      case 'lab':
        return 'labctl lab up';
      case 'drill':
        return `labctl lab drill ${id}${id === 'backup-mx' ? ' --force' : ''}`;
    }
  }
}

/**
 * A summary a producer wrote as JSON (the drill writes its figures so) reads as
 * "sent 20, held on backup 20, ..."; any other summary is shown as written.
 */
export function readableSummary(summary: string | undefined): string | undefined {
  if (!summary || !summary.trim().startsWith('{')) return summary;
  try {
    const o: unknown = JSON.parse(summary);
    if (!isObj(o)) return summary;
    return Object.entries(o)
      .map(([k, v]) => `${humanize(k)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(', ');
  } catch {
    return summary;
  }
}

function makeItem(spec: ItemSpec, ctx: Context): ReportItem {
  const rec = ctx.pick(spec.area, spec.id);
  const key = `${spec.area}/${spec.id}`;
  if (!rec) {
    return { key, title: spec.title, status: 'missing', command: spec.command ?? ctx.defaultCommand(spec.area, spec.id), blocks: [], history: [] };
  }
  ctx.used.add(rec);
  let blocks: Block[];
  try {
    blocks = spec.render ? spec.render(rec, ctx) : recordBlocks(rec);
  } catch {
    // A producer changed shape: show its evidence as recorded rather than nothing.
    blocks = recordBlocks(rec);
  }
  return {
    key,
    title: spec.title,
    status: normalizeStatus(rec.status),
    summary: readableSummary(rec.summary),
    host: rec.host,
    at: rec.at,
    ms: rec.ms,
    blocks,
    history: ctx.opts.history ? ctx.history(rec) : [],
  };
}

// ---- renderers for records that deserve more than their raw items ----

const isTimelineData = (i: EvidenceItem) =>
  isObj(i.data) && ['timeline', 'messages', 'perMessage'].some((k) => Array.isArray(pick(i.data, k)));

function renderTopology(rec: EvidenceRecord): Block[] {
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
  // The zone files and other text evidence; the data item is already drawn and tabled.
  blocks.push(...recordBlocks(rec, (i) => i.kind === 'data'));
  return blocks;
}

function shortTime(ms: number | undefined, base: number): string {
  if (ms === undefined) return '';
  const iso = new Date(ms).toISOString().slice(11, 23);
  return `${iso} (+${((ms - base) / 1000).toFixed(1)} s)`;
}

/** How many messages the table lists by Message-ID; the rest are counted. */
export const MESSAGE_ROWS = 12;

function renderBackupDrill(rec: EvidenceRecord): Block[] {
  const blocks: Block[] = [para(DRILL_EXPLAINED)];
  const f = figuresFrom(rec);
  const figureRows: [string, number | undefined, string][] = [
    ['messages sent', f.sent, ''],
    ['held on the backup', f.heldOnBackup, 'accepted by the preference-20 host while the primary was down'],
    ['delivered to the primary', f.delivered, 'unique Message-IDs in the primary\'s mailbox'],
    ['lost', f.lost, ''],
    ['duplicates', f.duplicates, ''],
    ['time held', f.heldSeconds, 'seconds'],
    ['recovery', f.recoverySeconds, 'seconds from the primary\'s return to the last delivery'],
  ];
  const rows = figureRows.filter(([, v]) => v !== undefined).map(([k, v, note]) => [k, String(v), note]);
  if (rows.length) blocks.push({ kind: 'table', caption: 'Drill figures', headers: ['figure', 'value', 'meaning'], rows });
  const tl = timelineFrom(rec);
  if (tl) {
    blocks.push({ kind: 'timeline', timeline: tl });
    if (tl.events.length) {
      blocks.push({ kind: 'table', caption: 'Drill events', headers: ['time (UTC)', 'event'], rows: tl.events.map((e) => [shortTime(e.at, tl.start), e.label]) });
    }
    const listed = tl.messages.slice(0, MESSAGE_ROWS);
    const msgRows = listed.map((m) => [m.messageId ?? '', shortTime(m.sent, tl.start), shortTime(m.held, tl.start), shortTime(m.delivered, tl.start)]);
    if (tl.messages.length > listed.length) msgRows.push([`... and ${tl.messages.length - listed.length} more`, '', '', '']);
    blocks.push({ kind: 'table', caption: 'Messages (times UTC, offset from the drill\'s start; held and delivered times come from Exim\'s logs (log_selector +millisec))', headers: ['Message-ID', 'sent', 'held on backup', 'delivered'], rows: msgRows, mono: true });
  }
  const figureKeys = ['sent', 'heldOnBackup', 'delivered', 'lost', 'duplicates', 'heldSeconds', 'recoverySeconds'];
  for (const item of rec.evidence ?? []) {
    if (item.kind === 'data' && isObj(item.data)) {
      // Figures and the timeline are shown above; anything else in the data stays visible.
      if (isTimelineData(item) && tl) {
        blocks.push(...dataBlocks(item.label || 'drill data', item.data, [...figureKeys, 'timeline', 'messages', 'perMessage', 'events', 'figures']));
        continue;
      }
      if (Object.keys(item.data).every((k) => figureKeys.includes(k))) continue;
      blocks.push(...dataBlocks(item.label || 'drill data', item.data, figureKeys));
      continue;
    }
    blocks.push(...itemBlocks(item));
  }
  return blocks;
}

/** The Received header of a message that came over TLS, from whichever record shows one. */
export function findTlsReceived(records: (EvidenceRecord | undefined)[]): string | undefined {
  for (const rec of records) {
    for (const text of recordTexts(rec)) {
      const lines = text.split('\n');
      for (let i = 0; i < lines.length; i++) {
        if (!/^Received:/i.test(lines[i])) continue;
        const block = [lines[i]];
        for (let j = i + 1; j < lines.length && /^[ \t]/.test(lines[j]); j++) block.push(lines[j]);
        const joined = block.join('\n');
        if (/esmtps|\btls\b|TLS1|TLSv1/i.test(joined)) return joined;
      }
    }
  }
  return undefined;
}

/**
 * The transcript lines that show the upgrade to TLS: the server's STARTTLS offer, the command,
 * its 220 reply, and the first exchange inside TLS (~> / <~).
 */
export function starttlsLines(rec: EvidenceRecord | undefined): string | undefined {
  for (const item of rec?.evidence ?? []) {
    const lines = (item.text ?? '').split('\n');
    const cmd = lines.findIndex((l) => /^\s*->\s*STARTTLS\s*$/i.test(l));
    if (cmd < 0) continue;
    const offer = lines.findIndex((l, i) => i < cmd && /^\s*<-\s*250[- ]STARTTLS/i.test(l));
    const firstTls = lines.findIndex((l, i) => i > cmd && /^\s*~>/.test(l));
    const head = offer < 0 ? [] : offer === cmd - 1 ? [lines[offer]!] : [lines[offer]!, '    [...]'];
    const tail = lines.slice(cmd, firstTls < 0 ? cmd + 3 : firstTls + 2);
    return [...head, ...tail].join('\n');
  }
  return undefined;
}

// ---- the write-up's structure ----

function sections(): SectionSpec[] {
  return [
    {
      title: 'Task 1: Installation',
      items: [],
      subsections: [
        {
          title: '1a. No pre-installed MTA',
          items: [
            { area: 'install', id: '1a-preflight', title: 'Pre-flight: packages, /usr/sbin/sendmail and port 25 checked for another MTA' },
            { area: 'verify', id: '1a-no-other-mta', title: 'Check: no other MTA installed or listening' },
          ],
        },
        {
          title: '1b. Source from the official site',
          items: [
            { area: 'install', id: '1b-source', title: 'Release tarball, signature and maintainers\' keyring' },
            { area: 'verify', id: '1b-current-release', title: 'Check: the installed release against known security advisories' },
          ],
        },
        {
          title: '1c. Signature verification',
          items: [
            { area: 'install', id: '1c-signature', title: 'Detached signature verified against the maintainers\' keyring and the pinned fingerprints' },
            { area: 'install', id: 'extract', title: 'Extracted only after the signature verified (entries escaping the build directory refused)' },
            { area: 'verify', id: '1c-signature', title: 'Check: the installed source\'s signature record' },
          ],
        },
        {
          title: '1d. Build options, build and install',
          items: [
            { area: 'install', id: '1d-makefile', title: 'Local/Makefile: the settings and their diff against EDITME' },
            { area: 'install', id: 'deps', title: 'Build dependencies' },
            { area: 'install', id: 'exim-user', title: 'The exim user and group' },
            { area: 'install', id: 'build', title: 'Build' },
            { area: 'install', id: 'make-install', title: 'make install' },
            { area: 'install', id: 'install-version', title: 'exim -bV after installing' },
            { area: 'verify', id: '1d-build-options', title: 'Check: the build options in the installed binary' },
            { area: 'verify', id: 'install-version', title: 'Check: exim -bV' },
          ],
        },
        {
          title: 'Service',
          items: [
            { area: 'install', id: 'service', title: 'The systemd unit and the running daemon' },
            { area: 'verify', id: 'daemon-listening', title: 'Check: the daemon listens' },
          ],
        },
        {
          title: '2. Configuration',
          items: [],
          areaRest: { area: 'configure', command: 'labctl configure', title: 'Configuration rendered, checked and installed' },
        },
        {
          title: '3a. Routing to a local account',
          items: [{ area: 'verify', id: '3a-route-local', title: 'exim -bt routes the local user to local delivery' }],
        },
        {
          title: '3b. A delivered message with full headers',
          items: [{ area: 'verify', id: '3b-local-delivery', title: 'Messages sent over SMTP and on the command line, found in the mailbox' }],
        },
        {
          title: '3c. Mail to postmaster',
          items: [{ area: 'verify', id: '3c-postmaster', title: 'postmaster@ arrives in the postmaster account\'s mailbox' }],
        },
      ],
    },
    {
      title: 'Task 2: Mail backup',
      items: [],
      subsections: [
        {
          title: '4a, 5a. DNS and the backup MX',
          intro: () => MX_ORDER.map(para),
          items: [
            { area: 'lab', id: 'topology', title: 'Lab topology: hosts, addresses, MX preferences' },
            { area: 'verify', id: '4a-dns-mx', title: 'Check: MX records as published, in order' },
            { area: 'verify', id: '5a-backup-relay', title: 'Check: the partner\'s domain is accepted for relay' },
            { area: 'verify', id: 'relay-refused', title: 'Check: a third party\'s domain is refused (no open relay)' },
          ],
        },
        {
          title: '4b, 4c, 5b, 5c. Backup drill',
          items: [
            { area: 'drill', id: 'backup-mx', title: 'Primary down, mail held on the backup, delivered after recovery' },
            { area: 'verify', id: 'queue', title: 'Check: the queue afterwards (nothing frozen)' },
          ],
        },
      ],
    },
    {
      title: 'Task 3: Transport encryption',
      items: [],
      subsections: [
        {
          title: '6a. SSL/TLS or STARTTLS?',
          intro: () => ANSWER_6A.map(para),
          items: [],
        },
        {
          title: '6b. Which one is used for SMTP?',
          intro: (ctx) => {
            // The shown 6-starttls run first; a run with TLS off has no upgrade to quote, so then any other.
            const candidates = [ctx.pick('verify', '6-starttls'), ...ctx.all('verify', '6-starttls'), ctx.pick('drill', 'tls')];
            const lines = candidates.map(starttlsLines).find((l) => l !== undefined);
            const out: Block[] = [para(ANSWER_6B)];
            if (lines) out.push({ kind: 'code', label: 'From an SMTP transcript: the STARTTLS offer, the upgrade, the first lines inside TLS', text: lines });
            return out;
          },
          items: [],
        },
        {
          title: '7a. Transport encryption',
          intro: () => [para(TLS_SETUP)],
          items: [
            { area: 'verify', id: '6-starttls', title: 'STARTTLS on port 25: transcript, protocol, cipher, certificate' },
            { area: 'verify', id: '7a-smtps', title: 'SMTPS on port 465: TLS from the first byte' },
          ],
        },
        {
          title: '7b. Encryption required',
          intro: () => [...TLS_REQUIRED.map(para), { kind: 'code', label: 'Exim configure: begin acl', text: TLS_REQUIRED_ACL }],
          items: [{ area: 'verify', id: '7b-tls-required', title: 'Plaintext MAIL FROM refused, the same after STARTTLS accepted' }],
        },
        {
          title: '7c. Validation',
          intro: (ctx) => {
            const received = findTlsReceived([ctx.pick('drill', 'tls'), ctx.pick('verify', '6-starttls'), ctx.pick('verify', '3b-local-delivery'), ctx.pick('verify', 'dkim-signature')]);
            return received ? [para(RECEIVED_EXPLAINED), { kind: 'code', label: 'Received header', text: received }] : [];
          },
          items: [{ area: 'drill', id: 'tls', title: 'TLS drill between the lab hosts: verified certificates, SMTPS, TLS required, DKIM and SPF' }],
        },
      ],
    },
    {
      title: 'Task 7: SPF and DKIM',
      items: [],
      subsections: [
        {
          title: 'SPF and DKIM records and a verified signature',
          items: [
            { area: 'verify', id: 'spf-record', title: 'SPF record published and evaluating to pass' },
            { area: 'verify', id: 'dkim-signature', title: 'DKIM key published and a signed message verified' },
          ],
        },
        {
          title: '15. SPF or DKIM?',
          intro: () => ANSWER_15.map(para),
          items: [],
        },
      ],
    },
  ];
}

const RENDERERS: Record<string, ItemSpec['render']> = {
  'lab/topology': renderTopology,
  'drill/backup-mx': renderBackupDrill,
};

const slugify = (s: string) =>
  s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

function buildSection(spec: SectionSpec, ctx: Context, ids: Set<string>): ReportSection {
  // HTML ids that start with a letter, so they also work as CSS selectors (#s-1a-...).
  let id = `s-${slugify(spec.title) || 'section'}`;
  while (ids.has(id)) id += '-x';
  ids.add(id);
  const items = spec.items.map((i) => makeItem({ ...i, render: i.render ?? RENDERERS[`${i.area}/${i.id}`] }, ctx));
  if (spec.areaRest) {
    const rest = ctx.ids(spec.areaRest.area).sort();
    if (rest.length === 0) {
      items.push({ key: `${spec.areaRest.area}/*`, title: spec.areaRest.title, status: 'missing', command: spec.areaRest.command, blocks: [], history: [] });
    }
    for (const rid of rest) {
      const rec = ctx.pick(spec.areaRest.area, rid);
      items.push(makeItem({ area: spec.areaRest.area, id: rid, title: rec?.title || rid }, ctx));
    }
  }
  return {
    id,
    title: spec.title,
    intro: spec.intro ? spec.intro(ctx) : [],
    items,
    subsections: (spec.subsections ?? []).map((s) => buildSection(s, ctx, ids)),
  };
}

function count(secs: ReportSection[], counts: ReportCounts): void {
  for (const s of secs) {
    for (const i of s.items) counts[i.status]++;
    count(s.subsections, counts);
  }
}

function collectMissing(secs: ReportSection[], out: Report['missing']): void {
  for (const s of secs) {
    for (const i of s.items) if (i.status === 'missing' && i.command) out.push({ key: i.key, title: i.title, command: i.command });
    collectMissing(s.subsections, out);
  }
}

export function buildReport(records: EvidenceRecord[], opts: BuildOptions = {}): Report {
  const ctx = new Context(records, opts);
  const ids = new Set<string>();
  const built = sections().map((s) => buildSection(s, ctx, ids));

  // Records no section asked for (a new check, a record for another host) stay visible.
  const shown = new Set([...ctx.used].map((r) => `${r.area}/${r.id}`));
  const others = new Map<string, EvidenceRecord>();
  for (const r of records) {
    if (!r || typeof r.area !== 'string' || shown.has(`${r.area}/${r.id}`)) continue;
    if (opts.host && r.host && r.host !== opts.host) continue;
    const key = `${r.area}/${r.id}${r.host ? `@${r.host}` : ''}`;
    const seen = others.get(key);
    if (!seen || Date.parse(seen.at) < Date.parse(r.at)) others.set(key, r);
  }
  if (others.size) {
    built.push({
      id: 's-other-evidence',
      title: 'Other evidence',
      intro: [para('Records in the evidence store that the sections above do not use.')],
      items: [...others.values()]
        .sort((a, b) => `${a.area}/${a.id}`.localeCompare(`${b.area}/${b.id}`))
        .map((r) => ({
          key: `${r.area}/${r.id}`,
          title: r.title || r.id,
          status: normalizeStatus(r.status),
          summary: readableSummary(r.summary),
          host: r.host,
          at: r.at,
          ms: r.ms,
          blocks: recordBlocks(r),
          history: opts.history ? ctx.history(r) : [],
        })),
      subsections: [],
    });
  }

  const counts: ReportCounts = { pass: 0, fail: 0, warn: 0, skip: 0, missing: 0, info: 0 };
  count(built, counts);
  const missing: Report['missing'] = [];
  collectMissing(built, missing);

  const summary: ReportSection = {
    id: 's-summary',
    title: 'Summary',
    intro: summaryBlocks(counts, missing, records.length, opts, [...new Set(records.filter((r) => r?.area === 'verify' && r.host).map((r) => r.host as string))].sort()),
    items: [],
    subsections: [],
  };

  return {
    title: `Lab 3: MTA (Exim), lab report${opts.host ? ` for ${opts.host}` : ''}`,
    generatedAt: (opts.now ?? new Date()).toISOString(),
    host: opts.host,
    recordCount: records.length,
    sections: [summary, ...built],
    counts,
    missing,
  };
}

function summaryBlocks(c: ReportCounts, missing: Report['missing'], recordCount: number, opts: BuildOptions, labHosts: string[]): Block[] {
  const blocks: Block[] = [
    para(
      `Written by labctl from ${recordCount} evidence record${recordCount === 1 ? '' : 's'}${opts.host ? `, preferring those about ${opts.host}` : ''}; ` +
        'every output below is what the command printed, nothing typed by hand.',
    ),
    {
      kind: 'table',
      headers: ['pass', 'fail', 'warn', 'skipped', 'recorded', 'missing'],
      rows: [[c.pass, c.fail, c.warn, c.skip, c.info, c.missing].map(String)],
    },
  ];
  if (!opts.host && labHosts.length) {
    blocks.push(para(`The checks also ran on the lab hosts ${labHosts.join(', ')}; this report shows the machine's own runs where there are any, and a lab host's pass where the machine's own run could only warn or skip (DNS that nothing serves here, no partner to back up). For one lab host's runs throughout, run \`labctl report --host ${labHosts[0]}\`.`));
  }
  if (missing.length) {
    blocks.push(para('Not run yet (each line: the item, then the command that produces its evidence):'));
    blocks.push({ kind: 'list', items: missing.map((m) => `${m.key}: ${m.title}; run \`${m.command}\``) });
  }
  return blocks;
}

