/**
 * The write-up's 4b-5c between two real machines, run on the primary (this host) against its
 * partner, the backup MX, reached only by DNS and SMTP: no ssh, nothing run on the partner. The
 * shared drill (./backup-core.ts) on this world:
 *   - checks: DNS gives MX 10 to this host and MX 20 to the partner, the partner accepts RCPT for
 *     this domain, and for 5c that it accepts ETRN; nothing is stopped when any of it is wrong;
 *   - the daemon stop is guarded: started again on failure, Ctrl-C, SIGTERM, or by the next labctl
 *     run after a kill -9 (src/system/daemon-guard.ts);
 *   - the messages go to the partner's port 25 as any outside sender's would, and its acceptance
 *     (its queue id) is the evidence of 5b;
 *   - 5c is ETRN #domain; 4c waits for the partner's own retry (--wait-retry);
 *   - how long each message was held comes from its own Received: headers.
 */
import { LabError } from '../errors.js';
import type { BackupDrill } from '../evidence/payloads.js';
import { MailboxFollower } from './mailbox-follower.js';
import { runSender } from './send.js';
import { MAIL_SPOOL } from '../paths.js';
import { loadServiceSettings } from '../state/service.js';
import { stopDaemonGuarded } from '../system/daemon-guard.js';
import { readIfExists } from '../system/files.js';
import { splitMbox } from '../verify/mailbox.js';
import { runBackupDrill, type BackupWorld } from './backup-core.js';
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

function machineWorld(pair: MachinePair, from: string, log: (line: string) => void): BackupWorld {
  const to = `${pair.user}@${pair.domain}`;
  const mailbox = `${MAIL_SPOOL}/${pair.user}`;
  return {
    kind: 'machines',
    primary: pair.mailHost,
    backup: pair.partner.mailHost,
    forcedBy: 'etrn',
    async checks(forced) {
      const evidence = [await checkMx(pair)];
      log(`DNS: MX 10 ${pair.mailHost}, MX 20 ${pair.partner.mailHost} (${pair.partner.address})`);
      evidence.push(await checkPartnerAccepts(pair, from));
      log(`${pair.partner.mailHost} accepts RCPT for ${pair.domain}`);
      if (forced) {
        const probe = await etrn(pair);
        if (!probe.accepted) {
          throw new LabError(
            `the partner ${pair.partner.mailHost} refuses ETRN #${pair.domain} (${probe.reply ?? 'no reply'}): it cannot be asked to deliver now`,
            `run labctl drill backup-mx --wait-retry to wait for its own retry instead, or ask your partner to run labctl configure --backup-for ${pair.domain}`,
          );
        }
        log(`${pair.partner.mailHost} accepts ETRN #${pair.domain}`);
      }
      return evidence;
    },
    follow: (runId) => MailboxFollower.fromEndOf(mailbox, runId),
    stopPrimary: async () => stopDaemonGuarded('labctl drill backup-mx', await loadServiceSettings()),
    async send(runId, n) {
      const records = await runSender({
        from, to, count: n, idPrefix: runId, idDomain: pair.mailHost, helo: pair.mailHost,
        host: pair.partner.address, port: 25, subject: 'labctl backup-MX drill', timeoutMs: 10_000,
      });
      // The sender names the host it used; here that is the partner, by its address.
      for (const r of records) if (r.ok) r.mx = pair.partner.mailHost;
      const refused = records.filter((r) => !r.ok);
      if (refused.length === records.length) throw new LabError(`the partner ${pair.partner.mailHost} accepted none of the ${n} messages: ${refused[0]?.error ?? ''}`);
      return {
        records,
        evidence: [{
          kind: 'text',
          label: `${pair.partner.mailHost} accepts the mail while ${pair.mailHost} is down (4b; 5b: held in its queue under these ids)`,
          text: records.map((r) => `${r.messageId}: ${r.ok ? r.response ?? 'accepted' : `REFUSED ${r.error}`}`).join('\n'),
        }],
      };
    },
    // The partner's queue cannot be read from here: its acceptance above is the evidence, and the
    // time each message was held comes from its Received: headers once it arrived.
    held: async () => ({ evidence: [], heldAt: new Map() }),
    async flush(forced) {
      if (!forced) return [];
      const asked = await etrn(pair);
      log(asked.accepted ? `ETRN #${pair.domain}: ${asked.reply} (5c)` : `ETRN refused after the return (${asked.reply}): waiting for the partner's retry`);
      return [asked.evidence];
    },
    async times(_runId, ids) {
      const wanted = new Set(ids);
      const heldAt = new Map<string, number>();
      const deliveredAt = new Map<string, number>();
      const heldPerMessage: number[] = [];
      let sample: string | undefined;
      for (const m of splitMbox((await readIfExists(mailbox)) ?? '')) {
        const id = messageIdOf(m.headers);
        if (!id || !wanted.has(id) || deliveredAt.has(id)) continue;
        const [primaryHop, backupHop] = receivedHops(m.headers);
        if (primaryHop) deliveredAt.set(id, primaryHop.at);
        if (backupHop) heldAt.set(id, backupHop.at);
        const h = heldSeconds(m.headers);
        if (h !== undefined) heldPerMessage.push(h);
        sample ??= m.headers;
      }
      return {
        heldAt,
        deliveredAt,
        heldPerMessage,
        extra: heldPerMessage.length ? { heldSeconds: Math.max(...heldPerMessage) } : {},
        evidence: sample ? [{ kind: 'headers', label: `one message as delivered to ${pair.user} (its Received: headers show both hops)`, text: sample }] : [],
      };
    },
  };
}

export async function machineBackupDrill(pair: MachinePair, o: MachineBackupOptions): Promise<MachineBackupResult> {
  const log = o.log ?? (() => undefined);
  const world = machineWorld(pair, o.from ?? `postmaster@${pair.domain}`, log);
  const r = await runBackupDrill(world, {
    messages: o.messages,
    forced: !o.waitRetry,
    timeoutMs: o.timeoutMs,
    title: (n) => `backup MX drill between two machines: ${pair.mailHost} down, ${pair.partner.mailHost} holds ${n} messages, ${o.waitRetry ? "delivered by the partner's retry (4c)" : 'delivered after ETRN (5c)'}`,
    log,
  });
  return { figures: r.figures, timeline: r.timeline, ok: r.ok };
}
