import { promises as fs } from 'node:fs';
import path from 'node:path';
import { runBackupDrill, type BackupWorld } from '../../drill/backup-core.js';
import { MailboxFollower } from '../../drill/mailbox-follower.js';
import { LabError } from '../../errors.js';
import type { BackupDrillFigures, BackupDrillMessage } from '../../evidence/payloads.js';
import type { EvidenceItem } from '../../evidence/store.js';
import { cpuSample, cpuUse, type CpuSample } from '../../system/cpu.js';
import { removePath } from '../../system/files.js';
import { waitUntil } from '../../system/procs.js';
import { daemonPid, queueCount, startDaemon, stopDaemon } from '../hosts/daemon.js';
import { answers } from '../services/bind.js';
import { cpuCeiling, logPhases, type CpuCeiling, type LogPhases } from './backup-phases.js';
import { logSize, mailboxPath, mainlogSince, receptions } from '../hosts/logs.js';
import { defaultSender, sendFromClient } from '../hosts/send.js';
import type { LabState } from '../state.js';
import { drillPair, labPaths, mailHostName, names, type LabMailHostSpec } from '../topology.js';
import { eximInView } from '../hosts/view.js';

/**
 * The write-up's 4b, 4c, 5b and 5c in the namespace lab, where labctl controls both hosts: the
 * shared drill (src/drill/backup-core.ts) on the lab's pair. The client sends N messages by MX
 * lookup while the primary's daemon is down, the backup's queue and log show them held, and the
 * backup delivers either by its queue runner and retry rule (4c) or forced with -qff (5c, with
 * --runners queue runners at once). The figures per phase come from the two main logs, and a
 * forced delivery also measures the CPU one message cost the machine.
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
  /** The forced (or retry) delivery per phase, from the two main logs. */
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

/** Removes the backup's retry and wait hints so each drill starts from the same place. */
async function clearHints(host: LabMailHostSpec): Promise<void> {
  const db = path.join(labPaths.host(host.name).spool, 'db');
  for (const f of await fs.readdir(db).catch(() => [] as string[])) {
    if (/^(retry|wait-)/.test(f)) await removePath(path.join(db, f));
  }
}

/** The namespace lab as the drill's world. */
function labWorld(state: LabState, runners: number, log: (line: string) => void): BackupWorld & { logs(): LogPhases } {
  const { primary, partner: backup } = drillPair(state.spec, 'backup-mx', { backupRequired: true });
  const user = state.hosts[primary.name]!.users[0]!;
  const to = `${user}@${primary.domain}`;
  let backupLogStart = 0;
  let primaryLogStart = 0;
  let backupReturnOffset = 0;
  let phasesFromLogs: LogPhases = {};
  return {
    kind: 'namespace',
    primary: primary.name,
    backup: backup.name,
    forcedBy: 'qff',
    logs: () => phasesFromLogs,
    async checks() {
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
      backupLogStart = await logSize(backup);
      primaryLogStart = await logSize(primary);
      return [];
    },
    follow: (runId) => MailboxFollower.fromEndOf(mailboxPath(primary, user), runId),
    async stopPrimary() {
      await stopDaemon(primary);
      return { restore: async () => void (await startDaemon(primary, state.spec.queueInterval)) };
    },
    async send(runId, n) {
      // The client sends by MX lookup: MX 10 refuses, MX 20 (the backup) accepts.
      const sent = await sendFromClient(state, { from: defaultSender(state, to), to, count: n, runId, subject: 'backup-mx drill' });
      const failed = sent.records.filter((r) => !r.ok);
      const evidence: EvidenceItem[] = failed.length ? [{ kind: 'text', label: 'messages the client could not hand over', text: failed.map((f) => `${f.messageId}: ${f.error}`).join('\n') }] : [];
      return { records: sent.records, evidence };
    },
    async held(runId, accepted) {
      const onBackup = accepted.filter((r) => r.mx === mailHostName(backup)).length;
      const heldOk = await waitUntil(async () => (await queueCount(backup)) >= onBackup, 10_000, 100);
      const queue = await eximInView(backup, mailHostName(backup), ['-bp'], { allowFailure: true });
      const backupLog = await mainlogSince(backup, backupLogStart);
      const held = receptions(backupLog, runId);
      log(`${backup.name}: ${held.size} held (queue ${heldOk ? 'confirmed' : 'not confirmed'})`);
      return {
        heldAt: new Map([...held].map(([id, e]) => [id, e.at])),
        evidence: [
          { kind: 'command', label: `${backup.name}: queue while ${primary.name} is down (5b)`, command: 'exim -bp', exitCode: queue.exitCode, text: queue.stdout.split('\n').slice(0, 40).join('\n') },
          {
            kind: 'log',
            label: `${backup.name}: main log while ${primary.name} is down (4b)`,
            text: backupLog.split('\n').filter((l) => l.includes(runId) || /Connection refused|retry time not reached/.test(l)).slice(0, 30).join('\n'),
          },
        ],
      };
    },
    async flush(forced) {
      backupReturnOffset = await logSize(backup);
      if (!forced) return [];
      // Several runners share the queue (each message is locked by the runner delivering it), each
      // on its own connection to the primary.
      const qs = await Promise.all(Array.from({ length: runners }, () => eximInView(backup, mailHostName(backup), ['-qff'], { allowFailure: true, timeoutMs: 120_000 })));
      return qs.map((q) => ({ kind: 'command' as const, label: `${backup.name}: forced delivery (5c)${runners > 1 ? `, one of ${runners} runners` : ''}`, command: 'exim -qff', exitCode: q.exitCode, text: (q.stdout + q.stderr).trim() }));
    },
    async times(runId) {
      const primaryLog = await mainlogSince(primary, primaryLogStart);
      phasesFromLogs = logPhases(await mainlogSince(backup, backupReturnOffset), primaryLog, { recipient: to, primaryHost: mailHostName(primary), runId });
      return {
        heldAt: new Map(),
        deliveredAt: new Map([...receptions(primaryLog, runId)].map(([id, e]) => [id, e.at])),
        extra: { logPhases: phasesFromLogs },
        evidence: [{ kind: 'log', label: `${primary.name}: main log after its return (4c/5c)`, text: primaryLog.split('\n').filter((l) => l.includes(runId)).slice(0, 30).join('\n') }],
      };
    },
  };
}

export async function backupMxDrill(state: LabState, opts: BackupDrillOptions): Promise<BackupDrillResult> {
  const log = opts.log ?? (() => undefined);
  const world = labWorld(state, Math.max(1, opts.runners ?? 1), log);
  let cpuBefore: CpuSample | undefined;
  const r = await runBackupDrill(world, {
    messages: opts.messages,
    forced: opts.force,
    timeoutMs: opts.deliveryTimeoutMs ?? (opts.force ? 60_000 : 120_000),
    title: (n) => `backup MX drill: ${world.primary} down, ${world.backup} holds ${n} messages${opts.force ? ', forced delivery (-qff)' : ', retry rule and queue runner'}`,
    log,
    // Only a forced delivery keeps the machine busy from start to end; the queue runner's waits
    // would count as idle time.
    aroundDelivery: opts.force
      ? {
          before: async () => void (cpuBefore = await cpuSample()),
          after: async (n) => ({ cpu: cpuCeiling(cpuUse(cpuBefore!, await cpuSample()), n) }),
        }
      : undefined,
  });
  const f = r.figures;
  return {
    figures: { sent: f.sent, heldOnBackup: f.heldOnBackup, delivered: f.delivered, lost: f.lost, duplicates: f.duplicates, heldSeconds: f.heldSeconds, recoverySeconds: f.recoverySeconds },
    primary: world.primary,
    backup: world.backup,
    forced: opts.force,
    runId: r.timeline.runId,
    phases: f.phases,
    logPhases: world.logs(),
    ...(f.cpu ? { cpu: f.cpu } : {}),
    downAt: r.timeline.downAt,
    returnedAt: r.timeline.returnedAt,
    acceptRate: f.acceptRate,
    timeline: r.timeline.messages,
    evidence: r.evidence,
  };
}
