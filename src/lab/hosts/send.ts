/**
 * Sending mail inside the lab. From the client host: the lab's sender (MX lookup, each MX in
 * order) as a child process in the client's namespace. From a mail host: that host's own Exim
 * (`exim -odi`, as the write-up did), so its routers, TLS and DKIM signing are what is tested.
 */
import { LabError } from '../../errors.js';
import { newRunId, runSender } from '../../drill/send.js';
import type { SenderJob, SendRecord } from '../../drill/sender.js';
import type { LabState } from '../state.js';
import { CLIENT_NAME, findHost, mailHostName, names, type LabMailHostSpec } from '../topology.js';
import { eximInView } from './view.js';

export interface SendOptions {
  from: string;
  to: string;
  count: number;
  runId?: string;
  subject?: string;
  /** A line added to the body (the wire drill's marker). */
  body?: string;
  timeoutMs?: number;
}

export interface SendOutcome {
  runId: string;
  records: SendRecord[];
}

/** A sender address the lab's hosts can verify: a real user of another lab domain. */
export function defaultSender(state: LabState, to: string, fromHost?: LabMailHostSpec): string {
  if (fromHost) return `${state.hosts[fromHost.name]!.users[0]}@${fromHost.domain}`;
  const toDomain = to.slice(to.lastIndexOf('@') + 1);
  const other = state.spec.hosts.find((h) => h.domain !== toDomain) ?? state.spec.hosts[0]!;
  return `${state.hosts[other.name]!.users[0]}@${other.domain}`;
}

export async function sendFromClient(state: LabState, opts: SendOptions): Promise<SendOutcome> {
  const runId = opts.runId ?? newRunId();
  const job: SenderJob = {
    from: opts.from,
    to: opts.to,
    count: opts.count,
    idPrefix: runId,
    idDomain: `${CLIENT_NAME}.lab`,
    helo: `${CLIENT_NAME}.lab`,
    caFile: state.caCertificate,
    subject: opts.subject,
    timeoutMs: 3000,
  };
  const records = await runSender(job, { namespace: names.clientNs, timeoutMs: opts.timeoutMs });
  if (records.length === 1 && records[0]!.i === 0) throw new LabError(`client: cannot send to ${opts.to}: ${records[0]!.error}`, 'is the lab DNS server running? see labctl lab status');
  return { runId, records };
}

/** One message through a mail host's own Exim, delivered at once (-odi). */
export async function sendFromHost(host: LabMailHostSpec, opts: SendOptions): Promise<SendOutcome> {
  const runId = opts.runId ?? newRunId();
  const records: SendRecord[] = [];
  for (let i = 1; i <= opts.count; i++) {
    const messageId = `<${runId}-${i}@${mailHostName(host)}>`;
    const text = [
      `From: ${opts.from}`,
      `To: ${opts.to}`,
      `Subject: ${opts.subject ?? 'labctl lab message'} ${i}/${opts.count}`,
      `Message-ID: ${messageId}`,
      '',
      `labctl lab message ${i} of ${opts.count} from ${host.name}`,
      ...(opts.body ? [opts.body] : []),
      '',
    ].join('\n');
    const r = await eximInView(host, mailHostName(host), ['-odi', '-f', opts.from, '--', opts.to], {
      input: text,
      allowFailure: true,
      timeoutMs: opts.timeoutMs ?? 30_000,
    });
    records.push(
      r.exitCode === 0
        ? { i, messageId, ok: true, mx: host.name, acceptedAt: Date.now() }
        : { i, messageId, ok: false, error: (r.stderr || r.stdout).trim() || `exim exited ${r.exitCode}` },
    );
  }
  return { runId, records };
}

export async function labSend(state: LabState, from: string, opts: Omit<SendOptions, 'from'> & { from?: string }): Promise<SendOutcome> {
  if (from === CLIENT_NAME) return sendFromClient(state, { ...opts, from: opts.from ?? defaultSender(state, opts.to) });
  const host = findHost(state.spec, from);
  if (!host) throw new LabError(`no lab host "${from}"`, `hosts: ${[...state.spec.hosts.map((h) => h.name), CLIENT_NAME].join(', ')}`);
  return sendFromHost(host, { ...opts, from: opts.from ?? defaultSender(state, opts.to, host) });
}
