import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LabError } from '../errors.js';
import { type BackupDrill, type BackupDrillFigures, type BackupDrillMessage } from '../evidence/payloads.js';
import type { EvidenceItem } from '../evidence/store.js';
import { saveBackupDrill } from '../drill/backup-record.js';
import { cpuSample, cpuUse } from '../system/cpu.js';
import { removePath } from '../system/files.js';
import { sleep, waitUntil } from '../system/procs.js';
import { daemonPid, queueCount, startDaemon, stopDaemon } from './daemon.js';
import { answers } from './dns.js';
import { cpuCeiling, logPhases, type CpuCeiling, type LogPhases } from './drill-phases.js';
import { logSize, MailboxFollower, mainlogSince, receptions } from './logs.js';
import { defaultSender, newRunId, sendFromClient } from './send.js';
import type { LabState } from './state.js';
import { drillPair, labPaths, mailHostName, names, type LabMailHostSpec } from './topology.js';
import { eximInView } from './view.js';

/**
 * The write-up's 4b, 4c, 5b and 5c as one timed exercise: the primary's daemon stops, the
 * client sends N messages by MX lookup, the backup holds them, the primary comes back, and the
 * backup delivers, either by its queue runner and retry rule (4c) or forced with -qff (5c).
 */
export interface BackupDrillOptions {
  messages: number;
  force: boolean;
  /** With force: how many `exim -qff` queue runners the backup starts at once (default 1). */
  runners?: number;
  /** How long to wait for delivery after the primary's return. */
  deliveryTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface BackupDrillResult {
  /** Exactly what `--json` prints. */
  figures: BackupDrillFigures;
  primary: string;
  backup: string;
  forced: boolean;
  runId: string;
  phases: Record<string, number>;
  /** The forced (or retry) delivery per phase, from the two main logs (issue 12, item 9). */
  logPhases: LogPhases;
  /** Forced delivery only: the CPU one message cost the machine, and the ceiling that sets. */
  cpu?: CpuCeiling;
  /** Primary down, back up (epoch ms). */
  downAt: number;
  returnedAt: number;
  /** Messages per second the backup accepted during the outage. */
  acceptRate: number;
  timeline: BackupDrillMessage[];
  evidence: EvidenceItem[];
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** Removes the backup's retry and wait hints so each drill starts from the same place. */
async function clearHints(host: LabMailHostSpec): Promise<void> {
  const db = path.join(labPaths.host(host.name).spool, 'db');
  for (const f of await fs.readdir(db).catch(() => [] as string[])) {
    if (/^(retry|wait-)/.test(f)) await removePath(path.join(db, f));
  }
}

export async function backupMxDrill(state: LabState, opts: BackupDrillOptions): Promise<BackupDrillResult> {
  const log = opts.log ?? (() => undefined);
  const { primary, partner: backup } = drillPair(state.spec, 'backup-mx', { backupRequired: true });
  const user = state.hosts[primary.name]!.users[0]!;
  const to = `${user}@${primary.domain}`;
  const n = opts.messages;
  const phases: Record<string, number> = {};
  const evidence: EvidenceItem[] = [];
  const mark = (name: string, since: number) => (phases[name] = round1((performance.now() - since) / 1000));

  // The drill cannot run without the lab's DNS: say so at once instead of timing out later.
  if (!(await answers(state.spec, names.clientNs, 2))) {
    throw new LabError(
      `the lab DNS server (named in ${names.dnsNs}, ${state.spec.dnsAddress}) does not answer: the client cannot find the MX hosts of ${primary.domain}`,
      'see labctl lab status; labctl lab down && labctl lab up restarts it',
    );
  }
  for (const h of [primary, backup]) {
    if (!(await daemonPid(h))) throw new LabError(`${h.name}: the Exim daemon is not running`, 'see labctl lab status');
  }
  await clearHints(backup);
  const runId = newRunId();
  const backupLogStart = await logSize(backup);
  const primaryLogStart = await logSize(primary);
  const arrivals = await MailboxFollower.fromEnd(primary, user, runId);

  // 4b: the primary goes down.
  let t = performance.now();
  await stopDaemon(primary);
  const downAt = Date.now();
  mark('stopPrimary', t);
  log(`${primary.name}: daemon stopped`);

  let returnedAt = 0;
  try {
    // The client sends by MX lookup: MX 10 refuses, MX 20 (the backup) accepts.
    t = performance.now();
    const sent = await sendFromClient(state, { from: defaultSender(state, to), to, count: n, runId, subject: 'backup-mx drill' });
    mark('send', t);
    const accepted = sent.records.filter((r) => r.ok);
    const failed = sent.records.filter((r) => !r.ok);
    const acceptedOnBackup = accepted.filter((r) => r.mx === mailHostName(backup));
    const sendSeconds = phases.send!;
    log(`client: ${accepted.length}/${n} accepted (${acceptedOnBackup.length} by ${mailHostName(backup)}) in ${sendSeconds} s`);
    if (failed.length) evidence.push({ kind: 'text', label: 'messages the client could not hand over', text: failed.map((f) => `${f.messageId}: ${f.error}`).join('\n') });

    // 5b: held on the backup: its queue and its log.
    t = performance.now();
    const heldOk = await waitUntil(async () => (await queueCount(backup)) >= acceptedOnBackup.length, 10_000, 100);
    const queue = await eximInView(backup, mailHostName(backup), ['-bp'], { allowFailure: true });
    const backupLog = await mainlogSince(backup, backupLogStart);
    const held = receptions(backupLog, runId);
    mark('held', t);
    evidence.push({ kind: 'command', label: `${backup.name}: queue while ${primary.name} is down (5b)`, command: 'exim -bp', exitCode: queue.exitCode, text: queue.stdout.split('\n').slice(0, 40).join('\n') });
    evidence.push({
      kind: 'log',
      label: `${backup.name}: main log while ${primary.name} is down (4b)`,
      text: backupLog.split('\n').filter((l) => l.includes(runId) || /Connection refused|retry time not reached/.test(l)).slice(0, 30).join('\n'),
    });
    log(`${backup.name}: ${held.size} held (queue ${heldOk ? 'confirmed' : 'not confirmed'})`);

    // 4c: the primary comes back.
    t = performance.now();
    await startDaemon(primary, state.spec.queueInterval);
    returnedAt = Date.now();
    mark('startPrimary', t);
    log(`${primary.name}: daemon started again`);

    // 5c with --force; otherwise the retry rule and the queue runner do it.
    const backupReturnOffset = await logSize(backup);
    t = performance.now();
    const cpuBefore = await cpuSample();
    let cpuAfter = cpuBefore;
    if (opts.force) {
      // Several runners share the queue (each message is locked by the runner delivering it), each
      // on its own connection to the primary.
      const runners = Math.max(1, opts.runners ?? 1);
      const qs = await Promise.all(Array.from({ length: runners }, () => eximInView(backup, mailHostName(backup), ['-qff'], { allowFailure: true, timeoutMs: 120_000 })));
      for (const q of qs) evidence.push({ kind: 'command', label: `${backup.name}: forced delivery (5c)${runners > 1 ? `, one of ${runners} runners` : ''}`, command: 'exim -qff', exitCode: q.exitCode, text: (q.stdout + q.stderr).trim() });
    }
    const timeout = opts.deliveryTimeoutMs ?? (opts.force ? 60_000 : 120_000);
    let last = -1;
    let completeAt = 0;
    await waitUntil(async () => {
      const count = new Set(await arrivals.ids()).size;
      if (count !== last) log(`${primary.name}: ${count}/${accepted.length} in ${user}'s mailbox`);
      last = count;
      if (count >= accepted.length) {
        completeAt = Date.now();
        cpuAfter = await cpuSample();
      }
      return count >= accepted.length;
    }, timeout, 200);
    mark(opts.force ? 'forcedDelivery' : 'retryDelivery', t);

    // Late duplicates would show up after the fact: look once more a moment later.
    await sleep(300);
    const ids = await arrivals.ids();
    const unique = new Set(ids);
    const primaryLog = await mainlogSince(primary, primaryLogStart);
    const got = receptions(primaryLog, runId);
    const wire = logPhases(await mainlogSince(backup, backupReturnOffset), primaryLog, { recipient: to, primaryHost: mailHostName(primary), runId });
    // Only a forced delivery keeps the machine busy from start to end; the queue runner's waits
    // would count as idle time.
    const cpu = opts.force && completeAt ? cpuCeiling(cpuUse(cpuBefore, cpuAfter), accepted.length) : undefined;

    const timeline: BackupDrillMessage[] = sent.records.map((r) => {
      const id = r.messageId.replace(/^<|>$/g, '');
      return { messageId: id, sent: r.acceptedAt, acceptedBy: r.mx, held: held.get(id)?.at, delivered: got.get(id)?.at };
    });
    const firstHeld = acceptedOnBackup.reduce((a, r) => Math.min(a, r.acceptedAt ?? Infinity), Infinity);
    const figures: BackupDrillFigures = {
      sent: n,
      heldOnBackup: held.size,
      delivered: unique.size,
      lost: n - unique.size,
      duplicates: ids.length - unique.size,
      heldSeconds: round1((returnedAt - (Number.isFinite(firstHeld) ? firstHeld : downAt)) / 1000),
      // From the primary's return to the last message in its mailbox (polled every 0.2 s; the
      // log's times would add the write delay). Not complete: the time waited, as a lower bound.
      recoverySeconds: round1(((completeAt || Date.now()) - returnedAt) / 1000),
    };
    evidence.push({
      kind: 'log',
      label: `${primary.name}: main log after its return (4c/5c)`,
      text: primaryLog.split('\n').filter((l) => l.includes(runId)).slice(0, 30).join('\n'),
    });
    const result: BackupDrillResult = {
      figures,
      primary: primary.name,
      backup: backup.name,
      forced: opts.force,
      runId,
      phases,
      downAt,
      returnedAt,
      acceptRate: round1(acceptedOnBackup.length / Math.max(sendSeconds, 0.001)),
      logPhases: wire,
      ...(cpu ? { cpu } : {}),
      timeline,
      evidence,
    };
    const payload: BackupDrill = {
      figures: { ...figures, phases, acceptRate: result.acceptRate, forced: opts.force, primary: primary.name, backup: backup.name, logPhases: wire, ...(cpu ? { cpu } : {}), world: 'namespace', flush: opts.force ? 'qff' : 'retry' },
      timeline: { runId, downAt, returnedAt, messages: timeline },
    };
    await saveBackupDrill({
      ...payload,
      title: `backup MX drill: ${primary.name} down, ${backup.name} holds ${n} messages${opts.force ? ', forced delivery (-qff)' : ', retry rule and queue runner'}`,
      evidence,
    });
    return result;
  } finally {
    // Whatever happened, the primary is left running.
    if (!returnedAt) await startDaemon(primary, state.spec.queueInterval).catch(() => undefined);
  }
}
