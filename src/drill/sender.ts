/**
 * The lab client's mail sender: run by `labctl lab send` / the drills as a child process inside
 * a lab namespace (`ip netns exec labctl-client node dist/drill/sender.js '<json>'`), so its DNS
 * questions go to the lab's server (/etc/netns/<ns>/resolv.conf) and its connections stay in
 * the lab. It behaves like a sending MTA: MX lookup, then each MX in preference order until one
 * accepts (write-up 4b: the MX 20 backup takes the mail while MX 10 is down).
 *
 * Prints one JSON line per message: {i, messageId, ok, mx, acceptedAt, response | error}.
 */
import { promises as dns } from 'node:dns';
import { readFileSync } from 'node:fs';
import type nodemailer from 'nodemailer';
import { smtpPool } from '../system/smtp-client.js';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';

export interface SenderJob {
  from: string;
  to: string;
  count: number;
  /** Message-IDs are <prefix>-<i>@<idDomain>: unique per run so the drill can count them. */
  idPrefix: string;
  idDomain: string;
  /** Name sent in EHLO. */
  helo: string;
  /** Lab CA certificate (PEM file) used to verify STARTTLS peers. */
  caFile?: string;
  /** Deliver to this address instead of looking up MX records. */
  host?: string;
  port?: number;
  subject?: string;
  /** Per-lookup/connection timeout. */
  timeoutMs?: number;
}

export interface SendRecord {
  i: number;
  messageId: string;
  ok: boolean;
  mx?: string;
  acceptedAt?: number;
  response?: string;
  error?: string;
}

interface Target {
  name: string;
  address: string;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

async function targets(job: SenderJob): Promise<Target[]> {
  if (job.host) return [{ name: job.host, address: job.host }];
  const domain = job.to.slice(job.to.lastIndexOf('@') + 1);
  const timeout = job.timeoutMs ?? 5000;
  const mxs = await withTimeout(dns.resolveMx(domain), timeout, `MX lookup for ${domain}`);
  mxs.sort((a, b) => a.priority - b.priority);
  const out: Target[] = [];
  for (const mx of mxs) {
    const addrs = await withTimeout(dns.resolve4(mx.exchange), timeout, `A lookup for ${mx.exchange}`);
    for (const address of addrs) out.push({ name: mx.exchange, address });
  }
  if (out.length === 0) throw new Error(`no MX for ${domain}`);
  return out;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as SenderJob;
  const ca = job.caFile ? readFileSync(job.caFile, 'utf8') : undefined;
  let list: Target[];
  try {
    list = await targets(job);
  } catch (err) {
    process.stdout.write(JSON.stringify({ i: 0, messageId: '', ok: false, error: (err as Error).message }) + '\n');
    process.exitCode = 3;
    return;
  }
  const pools = new Map<string, nodemailer.Transporter<SMTPPool.SentMessageInfo>>();
  const pool = (t: Target) => {
    let p = pools.get(t.address);
    if (!p) {
      p = smtpPool({
        pool: true,
        maxConnections: 1,
        maxMessages: Infinity,
        host: t.address,
        port: job.port ?? 25,
        name: job.helo,
        connectionTimeout: job.timeoutMs ?? 5000,
        greetingTimeout: job.timeoutMs ?? 5000,
        tls: ca ? { ca, servername: t.name } : { rejectUnauthorized: false },
      } as SMTPPool.Options);
      pools.set(t.address, p);
    }
    return p;
  };
  let failed = 0;
  for (let i = 1; i <= job.count; i++) {
    const messageId = `<${job.idPrefix}-${i}@${job.idDomain}>`;
    const rec: SendRecord = { i, messageId, ok: false };
    const errors: string[] = [];
    for (const t of list) {
      try {
        const info = await pool(t).sendMail({
          envelope: { from: job.from, to: [job.to] },
          from: job.from,
          to: job.to,
          subject: `${job.subject ?? 'labctl lab message'} ${i}/${job.count}`,
          messageId,
          text: `labctl lab message ${i} of ${job.count}\n`,
        });
        Object.assign(rec, { ok: true, mx: t.name, acceptedAt: Date.now(), response: info.response });
        break;
      } catch (err) {
        errors.push(`${t.name} (${t.address}): ${(err as Error).message}`);
        pools.get(t.address)?.close();
        pools.delete(t.address);
      }
    }
    if (!rec.ok) {
      rec.error = errors.join('; ');
      failed++;
    }
    process.stdout.write(JSON.stringify(rec) + '\n');
  }
  for (const p of pools.values()) p.close();
  if (failed) process.exitCode = 1;
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ i: 0, messageId: '', ok: false, error: String(err) }) + '\n');
  process.exitCode = 3;
});
