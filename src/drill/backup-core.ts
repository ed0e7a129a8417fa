/**
 * The backup-MX drill (the write-up's 4b, 4c, 5b, 5c), written once against the pair it runs on.
 * A world is what differs: the namespace lab (labctl controls both hosts: a client sends by MX
 * lookup, the backup's queue and log are read, -qff forces the delivery) or two real machines
 * (labctl controls only this host: it sends to the partner's port 25, reads the partner's
 * acceptance from its replies, ETRN asks for the delivery, times come from Received: headers).
 * The sequence, the counting and the record are the same:
 *   checks -> follow the primary's mailbox -> stop the primary (4b) -> send N -> held (5b) ->
 *   start the primary -> forced delivery (5c) or the backup's retry (4c) -> count: lost,
 *   duplicated, held and delivered times -> drill/backup-mx or drill/backup-mx-retry.
 * The primary is started again whatever happens.
 */
import type { BackupDrill, BackupDrillMessage } from '../evidence/payloads.js';
import type { EvidenceItem } from '../evidence/store.js';
import type { SendRecord } from './sender.js';
import { newRunId } from './send.js';
import { sleep, waitUntil } from '../system/procs.js';
import { saveBackupDrill } from './backup-record.js';

export interface BackupWorld {
  kind: 'namespace' | 'machines';
  /** Names as the figures show them. */
  primary: string;
  backup: string;
  /** What a forced delivery is here: exim -qff on the backup, or ETRN from the primary. */
  forcedBy: 'qff' | 'etrn';
  /** Everything that must hold before anything changes; throws a one-line error otherwise. */
  checks(forced: boolean): Promise<EvidenceItem[]>;
  /** Message-IDs starting with runId delivered to the primary's mailbox since now, repeats kept. */
  follow(runId: string): Promise<{ ids(): Promise<string[]> }>;
  /** Stops the primary's daemon; restore() starts it again (and is safe to call twice). */
  stopPrimary(): Promise<{ restore(): Promise<void> }>;
  /** Sends `n` messages while the primary is down; records of those the backup accepted are ok. */
  send(runId: string, n: number): Promise<{ records: SendRecord[]; evidence: EvidenceItem[] }>;
  /** 5b: what the backup holds (its queue and log where they can be read), and when each was held. */
  held(runId: string, accepted: SendRecord[]): Promise<{ evidence: EvidenceItem[]; heldAt: Map<string, number> }>;
  /** Called once the primary is back: the forced delivery (5c), or nothing for the retry (4c). */
  flush(forced: boolean): Promise<EvidenceItem[]>;
  /** After the count: per message, when the backup held it and the primary received it; extra figures. */
  times(runId: string, ids: string[]): Promise<{
    evidence: EvidenceItem[];
    heldAt: Map<string, number>;
    deliveredAt: Map<string, number>;
    heldPerMessage?: number[];
    extra?: Partial<BackupDrill['figures']>;
  }>;
}

export interface BackupCoreOptions {
  messages: number;
  forced: boolean;
  timeoutMs: number;
  title: (n: number) => string;
  log?: (line: string) => void;
  /** Measured around the forced delivery only (the namespace lab's CPU ceiling). */
  aroundDelivery?: { before(): Promise<void>; after(deliveredCount: number): Promise<Partial<BackupDrill['figures']>> };
}

export interface BackupCoreResult {
  figures: BackupDrill['figures'];
  timeline: BackupDrill['timeline'];
  evidence: EvidenceItem[];
  ok: boolean;
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const bare = (messageId: string) => messageId.replace(/^<|>$/g, '');

export async function runBackupDrill(world: BackupWorld, o: BackupCoreOptions): Promise<BackupCoreResult> {
  const log = o.log ?? (() => undefined);
  const phases: Record<string, number> = {};
  const mark = (name: string, since: number) => (phases[name] = round1((performance.now() - since) / 1000));
  const evidence: EvidenceItem[] = [...(await world.checks(o.forced))];
  const runId = newRunId();
  const arrivals = await world.follow(runId);

  // 4b: the primary goes down; the mail goes to the backup.
  let t = performance.now();
  const stopped = await world.stopPrimary();
  const downAt = Date.now();
  mark('stopPrimary', t);
  log(`${world.primary}: daemon stopped`);
  let returnedAt = 0;
  let records: SendRecord[] = [];
  let heldAt = new Map<string, number>();
  let heldCount = 0;
  try {
    t = performance.now();
    const sent = await world.send(runId, o.messages);
    records = sent.records;
    evidence.push(...sent.evidence);
    mark('send', t);
    const accepted = records.filter((r) => r.ok);
    log(`${world.backup}: accepted ${accepted.length} of ${o.messages} in ${phases.send} s`);
    // 5b: held on the backup.
    t = performance.now();
    const held = await world.held(runId, accepted);
    heldAt = held.heldAt;
    // Where the backup's queue or log can be read, what it shows; elsewhere its acceptances.
    heldCount = heldAt.size || accepted.length;
    evidence.push(...held.evidence);
    mark('held', t);
  } finally {
    // 4c: the primary comes back, whatever happened.
    t = performance.now();
    await stopped.restore();
    returnedAt = Date.now();
    mark('startPrimary', t);
    log(`${world.primary}: daemon started again`);
  }
  const accepted = records.filter((r) => r.ok);
  const wanted = new Set(accepted.map((r) => bare(r.messageId)));

  // 5c (forced) or 4c (the backup's own retry), then the count.
  t = performance.now();
  await o.aroundDelivery?.before();
  evidence.push(...(await world.flush(o.forced)));
  if (!o.forced) log(`waiting up to ${Math.round(o.timeoutMs / 1000)} s for ${world.backup}'s own retry (4c)`);
  let last = -1;
  let completeAt = 0;
  let extra: Partial<BackupDrill['figures']> = {};
  await waitUntil(async () => {
    const n = new Set((await arrivals.ids()).filter((id) => wanted.has(id))).size;
    if (n !== last) log(`${world.primary}: ${n}/${accepted.length} in the mailbox`);
    last = n;
    if (n >= accepted.length && !completeAt) {
      completeAt = Date.now();
      extra = (await o.aroundDelivery?.after(n)) ?? {};
    }
    return n >= accepted.length;
  }, o.timeoutMs, 200);
  mark(o.forced ? 'forcedDelivery' : 'retryDelivery', t);
  // A duplicate would come right behind.
  await sleep(300);
  const ids = (await arrivals.ids()).filter((id) => wanted.has(id));
  const unique = new Set(ids);
  const times = await world.times(runId, [...unique]);
  evidence.push(...times.evidence);
  for (const [id, at] of times.heldAt) if (!heldAt.has(id)) heldAt.set(id, at);

  const messages: BackupDrillMessage[] = records.map((r) => {
    const id = bare(r.messageId);
    return { messageId: id, sent: r.acceptedAt, acceptedBy: r.ok ? r.mx : undefined, held: heldAt.get(id), delivered: times.deliveredAt.get(id) };
  });
  const firstHeld = accepted.reduce((a, r) => Math.min(a, r.acceptedAt ?? Infinity), Infinity);
  const figures: BackupDrill['figures'] = {
    sent: o.messages,
    heldOnBackup: heldCount,
    delivered: unique.size,
    lost: o.messages - unique.size,
    duplicates: ids.length - unique.size,
    heldSeconds: round1((returnedAt - (Number.isFinite(firstHeld) ? firstHeld : downAt)) / 1000),
    // From the primary's return to the last message in its mailbox (polled every 0.2 s).
    recoverySeconds: round1(((completeAt || Date.now()) - returnedAt) / 1000),
    phases,
    acceptRate: round1(accepted.length / Math.max(phases.send ?? 0.001, 0.001)),
    forced: o.forced,
    primary: world.primary,
    backup: world.backup,
    world: world.kind,
    flush: o.forced ? world.forcedBy : 'retry',
    ...(times.heldPerMessage ? { heldPerMessage: times.heldPerMessage } : {}),
    ...times.extra,
    ...extra,
  };
  const timeline: BackupDrill['timeline'] = { runId, downAt, returnedAt, messages };
  await saveBackupDrill({ figures, timeline, title: o.title(o.messages), evidence });
  return { figures, timeline, evidence, ok: figures.lost === 0 && figures.duplicates === 0 };
}
