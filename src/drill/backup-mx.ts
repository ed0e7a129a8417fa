/**
 * The write-up's 4b-5c between two real machines, run on the primary (this host) against its
 * partner, the backup MX, reached only by DNS and SMTP: no ssh, nothing run on the partner.
 *   1. The pair is checked first (MX 10 here, MX 20 the partner, the partner accepts RCPT for this
 *      domain, and for 5c that it accepts ETRN): nothing is stopped when any of it is wrong.
 *   2. 4b: this host's daemon stops (guarded: it is started again on failure, Ctrl-C, SIGTERM, or
 *      by the next labctl run after a kill -9), and N messages go to the partner's port 25 as any
 *      outside sender's would; the partner's acceptance (its queue id) is recorded (5b).
 *   3. 4c/5c: the daemon starts again; then either ETRN #domain asks the partner to deliver now
 *      (5c), or the drill waits for the partner's own retry (4c, --wait-retry), with a time limit.
 *   4. Each message is counted in this host's mailbox (lost, duplicated) and its time held on the
 *      partner read from its own Received: headers.
 * The 4c and the 5c runs are kept as separate records (drill/backup-mx-retry, drill/backup-mx).
 */
import { LabError } from '../errors.js';
import type { BackupDrill, BackupDrillMessage } from '../evidence/payloads.js';
import type { EvidenceItem } from '../evidence/store.js';
import { saveBackupDrill } from './backup-record.js';
import { MailboxFollower } from '../lab/logs.js';
import { newRunId, runSender } from '../lab/send.js';
import { MAIL_SPOOL } from '../paths.js';
import { stopDaemonGuarded } from '../system/daemon-guard.js';
import { readIfExists } from '../system/files.js';
import { sleep, waitUntil } from '../system/procs.js';
import { splitMbox } from '../verify/mailbox.js';
import { checkMx, checkPartnerAccepts, etrn, type MachinePair } from './machine-pair.js';
import { heldSeconds, messageIdOf, receivedHops } from './received.js';

export interface MachineBackupOptions {
  messages: number;
  /** 4c: wait for the partner's own retry instead of asking with ETRN. */
  waitRetry: boolean;
  /** How long to wait for every message after the daemon is back. */
  timeoutMs: number;
  /** The envelope and From: address (default postmaster@ this domain). */
  from?: string;
  log?: (line: string) => void;
}

export interface MachineBackupResult {
  figures: BackupDrill['figures'];
  timeline: BackupDrill['timeline'];
  ok: boolean;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export async function machineBackupDrill(pair: MachinePair, o: MachineBackupOptions): Promise<MachineBackupResult> {
  const log = o.log ?? (() => undefined);
  const from = o.from ?? `postmaster@${pair.domain}`;
  const to = `${pair.user}@${pair.domain}`;
  const evidence: EvidenceItem[] = [];
  const phases: Record<string, number> = {};
  const mark = (name: string, since: number) => (phases[name] = round1((performance.now() - since) / 1000));

  // 1. The pair, before anything changes.
  let t = performance.now();
  evidence.push(await checkMx(pair));
  log(`DNS: MX 10 ${pair.mailHost}, MX 20 ${pair.partner.mailHost} (${pair.partner.address})`);
  evidence.push(await checkPartnerAccepts(pair, from));
  log(`${pair.partner.mailHost} accepts RCPT for ${pair.domain}`);
  if (!o.waitRetry) {
    const probe = await etrn(pair);
    if (!probe.accepted) {
      throw new LabError(
        `the partner ${pair.partner.mailHost} refuses ETRN #${pair.domain} (${probe.reply ?? 'no reply'}): it cannot be asked to deliver now`,
        `run labctl drill backup-mx --wait-retry to wait for its own retry instead, or ask your partner to run labctl configure --backup-for ${pair.domain}`,
      );
    }
    log(`${pair.partner.mailHost} accepts ETRN #${pair.domain}`);
  }
  mark('checks', t);

  const runId = newRunId();
  const mailbox = `${MAIL_SPOOL}/${pair.user}`;
  const arrivals = await MailboxFollower.fromEndOf(mailbox, runId);

  // 2. 4b: down, and the mail goes to the partner.
  t = performance.now();
  const stopped = await stopDaemonGuarded('labctl drill backup-mx');
  const downAt = Date.now();
  mark('stopPrimary', t);
  log(`${pair.mailHost}: daemon stopped`);
  let returnedAt = 0;
  let records: Awaited<ReturnType<typeof runSender>> = [];
  try {
    t = performance.now();
    records = await runSender({
      from, to, count: o.messages, idPrefix: runId, idDomain: pair.mailHost, helo: pair.mailHost,
      host: pair.partner.address, port: 25, subject: 'labctl backup-MX drill', timeoutMs: 10_000,
    });
    mark('send', t);
    const refused = records.filter((r) => !r.ok);
    log(`${pair.partner.mailHost}: accepted ${records.length - refused.length} of ${o.messages} (4b)`);
    evidence.push({
      kind: 'text',
      label: `${pair.partner.mailHost} accepts the mail while ${pair.mailHost} is down (4b, 5b: held in its queue under these ids)`,
      text: records.map((r) => `${r.messageId}: ${r.ok ? r.response ?? 'accepted' : `REFUSED ${r.error}`}`).join('\n'),
    });
    if (refused.length === records.length) throw new LabError(`the partner ${pair.partner.mailHost} accepted none of the ${o.messages} messages: ${refused[0]?.error ?? ''}`);
  } finally {
    // 3. Back up, whatever happened.
    t = performance.now();
    await stopped.restore();
    returnedAt = Date.now();
    mark('startPrimary', t);
    log(`${pair.mailHost}: daemon started again`);
  }
  const accepted = records.filter((r) => r.ok);

  t = performance.now();
  if (!o.waitRetry) {
    const asked = await etrn(pair);
    evidence.push(asked.evidence);
    if (!asked.accepted) log(`ETRN refused after the return (${asked.reply}): waiting for the partner's retry`);
    else log(`ETRN #${pair.domain}: ${asked.reply} (5c)`);
  } else {
    log(`waiting up to ${Math.round(o.timeoutMs / 1000)} s for ${pair.partner.mailHost}'s own retry (4c)`);
  }
  let last = -1;
  const wanted = new Set(accepted.map((r) => r.messageId.replace(/^<|>$/g, '')));
  const arrivedAt = new Map<string, number>();
  await waitUntil(async () => {
    const ids = await arrivals.ids();
    for (const id of ids) if (!arrivedAt.has(id)) arrivedAt.set(id, Date.now());
    const n = new Set(ids.filter((id) => wanted.has(id))).size;
    if (n !== last) log(`${pair.mailHost}: ${n}/${accepted.length} in ${pair.user}'s mailbox`);
    last = n;
    return n >= accepted.length;
  }, o.timeoutMs, 250);
  mark(o.waitRetry ? 'retryDelivery' : 'etrnDelivery', t);
  await sleep(1000); // a duplicate would come right behind
  const ids = (await arrivals.ids()).filter((id) => wanted.has(id));
  const unique = new Set(ids);

  // 4. What arrived, and how long each waited, from its own headers.
  const text = (await readIfExists(mailbox)) ?? '';
  const arrived = new Map(splitMbox(text).flatMap((m) => {
    const id = messageIdOf(m.headers);
    return id && wanted.has(id) ? [[id, m.headers] as const] : [];
  }));
  const held: number[] = [];
  const messages: BackupDrillMessage[] = records.map((r) => {
    const id = r.messageId.replace(/^<|>$/g, '');
    const headers = arrived.get(id);
    const hops = headers ? receivedHops(headers) : [];
    const h = headers ? heldSeconds(headers) : undefined;
    if (h !== undefined) held.push(h);
    return { messageId: id, sent: r.acceptedAt, acceptedBy: r.ok ? pair.partner.mailHost : undefined, held: hops[1]?.at, delivered: hops[0]?.at };
  });
  const sample = [...arrived.values()][0];
  if (sample) evidence.push({ kind: 'headers', label: `one message as delivered to ${pair.user} (its Received: headers show both hops)`, text: sample });
  const figures: BackupDrill['figures'] = {
    sent: o.messages,
    heldOnBackup: accepted.length,
    delivered: unique.size,
    lost: o.messages - unique.size,
    duplicates: ids.length - unique.size,
    heldSeconds: held.length ? Math.max(...held) : 0,
    recoverySeconds: round1(((Math.max(0, ...arrivedAt.values()) || Date.now()) - returnedAt) / 1000),
    phases,
    acceptRate: round1(accepted.length / Math.max(phases.send ?? 0.001, 0.001)),
    forced: !o.waitRetry,
    primary: pair.mailHost,
    backup: pair.partner.mailHost,
    world: 'machines',
    flush: o.waitRetry ? 'retry' : 'etrn',
    heldPerMessage: held,
  };
  const timeline: BackupDrill['timeline'] = { runId, downAt, returnedAt, messages };
  const ok = figures.lost === 0 && figures.duplicates === 0;
  await saveBackupDrill({
    figures,
    timeline,
    title: `backup MX drill between two machines: ${pair.mailHost} down, ${pair.partner.mailHost} holds ${o.messages} messages, ${o.waitRetry ? "delivered by the partner's retry (4c)" : 'delivered after ETRN (5c)'}`,
    evidence,
  });
  return { figures, timeline, ok };
}
