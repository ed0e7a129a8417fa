import path from 'node:path';
import { LabError, usageError } from '../errors.js';
import type { EximHost } from '../system/hostview.js';
import type { RunResult } from '../system/run.js';
import {
  failureReason,
  isMessageId,
  lastAttempt,
  parseExinext,
  parseHintTime,
  parseQueueList,
  parseRetryRule,
  type QueuedMessage,
  type RetryHint,
} from './parse.js';

/**
 * The queue of one mail host (the machine, or a lab host through its view), read with Exim's own
 * tools: `exim -bp`, `exinext`, `exim -brt`, `exim -Mvl`, `-Mvh`, `-Mvb`, `-qff`, `-Rff`.
 */
export interface QueueHost extends EximHost {
  /** The daemon's queue runner interval (-q), e.g. "1m". */
  queueInterval: string;
}

/** Exim prints an environment warning on every call; it is noise here. */
const NOISE = /^.*Warning: purging the environment\.\n? ?Suggested action: use keep_environment\.\n?/gm;

async function exim(host: QueueHost, args: string[], timeoutMs = 30_000): Promise<RunResult> {
  const r = await host.view.run(host.exim, [...configArgs(host), ...args], { timeoutMs });
  return { ...r, stderr: r.stderr.replace(NOISE, '').trim() };
}

const configArgs = (host: QueueHost) => (host.config ? ['-C', host.config] : []);

const tool = (host: QueueHost, name: string) => path.join(path.dirname(host.exim), name);

export interface MessageRetry {
  /** The retry rule `exim -brt` finds for the recipient (pattern, error, rules). */
  rule?: { pattern: string; error: string; rules: string };
  /** exinext's hints for the recipient's hosts and address. */
  hints: RetryHint[];
  notes: string[];
  /** The earliest "next try at" among the hints, as printed and as an ISO time. */
  nextTry?: string;
  nextTryIso?: string;
}

export interface QueueEntry extends QueuedMessage {
  /** The recipient the retry facts are about: the first one not yet delivered. */
  pending?: string;
  retry: MessageRetry;
  /** The latest attempt's line in the message log, and its reason. */
  lastAttempt?: string;
  lastFailure?: string;
}

export async function queueList(host: QueueHost): Promise<{ command: RunResult; messages: QueuedMessage[] }> {
  const command = await exim(host, ['-bp']);
  if (command.exitCode !== 0) throw new LabError(`exim -bp exited ${command.exitCode}: ${(command.stderr || command.stdout).split('\n')[0]}`, 'is Exim installed? (labctl install)');
  return { command, messages: parseQueueList(command.stdout) };
}

/** exinext and -brt for one recipient address. */
export async function retryFor(host: QueueHost, address: string): Promise<MessageRetry> {
  const [next, brt] = await Promise.all([
    host.view.run(tool(host, 'exinext'), [...configArgs(host), address], { timeoutMs: 30_000 }),
    exim(host, ['-brt', address]),
  ]);
  const { hints, notes } = parseExinext(next.stdout);
  const times = hints.map((h) => ({ h, at: parseHintTime(h.nextTry) })).filter((t) => t.at !== undefined);
  times.sort((a, b) => a.at! - b.at!);
  const first = times[0];
  return {
    rule: parseRetryRule(brt.stdout),
    hints,
    notes,
    nextTry: first?.h.nextTry,
    nextTryIso: first ? new Date(first.at!).toISOString() : undefined,
  };
}

export async function messageLog(host: QueueHost, id: string): Promise<RunResult> {
  return exim(host, ['-Mvl', id]);
}

/** The list with each message's retry facts and last failure; retry facts are asked once per domain. */
export async function queueEntries(host: QueueHost): Promise<{ command: RunResult; entries: QueueEntry[] }> {
  const { command, messages } = await queueList(host);
  const byDomain = new Map<string, Promise<MessageRetry>>();
  const entries: QueueEntry[] = [];
  for (const m of messages) {
    const pending = m.recipients.find((r) => !r.delivered)?.address;
    let retry: MessageRetry = { hints: [], notes: [] };
    if (pending) {
      const domain = pending.split('@')[1]?.toLowerCase() ?? pending;
      if (!byDomain.has(domain)) byDomain.set(domain, retryFor(host, pending));
      retry = await byDomain.get(domain)!;
    }
    const log = await messageLog(host, m.id);
    const attempt = log.exitCode === 0 ? lastAttempt(log.stdout) : undefined;
    entries.push({ ...m, pending, retry, lastAttempt: attempt, lastFailure: attempt ? failureReason(attempt) : undefined });
  }
  return { command, entries };
}

/** A message id from the command line: its shape, then that it is in the queue. Both are usage errors (exit 2). */
export function checkMessageId(id: string): string {
  if (!isMessageId(id)) throw usageError(`"${id}" is not an Exim message id`, 'ids look like 1tKAbc-000000005vi-0Abc; the queued ones: labctl queue');
  return id;
}

export async function queueEntry(host: QueueHost, id: string): Promise<QueueEntry> {
  const { entries } = await queueEntries(host);
  const entry = entries.find((e) => e.id === id);
  if (!entry) throw usageError(`message ${id} is not in the queue${host.name ? ` of ${host.name}` : ''}`, 'delivered or bounced messages leave the queue; the queued ones: labctl queue');
  return entry;
}

export interface MessageParts {
  id: string;
  headers: string;
  body: string;
  log: string;
}

/** `labctl queue show ID`: -Mvh, -Mvb, -Mvl. */
export async function showMessage(host: QueueHost, id: string): Promise<MessageParts> {
  const [h, b, l] = await Promise.all([exim(host, ['-Mvh', id]), exim(host, ['-Mvb', id]), exim(host, ['-Mvl', id])]);
  if (h.exitCode !== 0) {
    throw usageError(`message ${id} is not in the queue${host.name ? ` of ${host.name}` : ''}: ${(h.stderr || h.stdout).split('\n')[0]}`, 'the queued messages: labctl queue');
  }
  return { id, headers: h.stdout, body: b.stdout, log: l.stdout };
}

/** `labctl queue flush [--domain D]`: a forced queue run, every message (-qff) or one domain's (-Rff). */
export async function flushQueue(host: QueueHost, domain?: string): Promise<{ command: RunResult; before: number; after: QueuedMessage[] }> {
  const before = (await queueList(host)).messages.length;
  const command = await exim(host, domain ? ['-Rff', domain] : ['-qff'], 300_000);
  if (command.exitCode !== 0) throw new LabError(`${command.command} exited ${command.exitCode}: ${(command.stderr || command.stdout).split('\n')[0]}`);
  const after = (await queueList(host)).messages;
  return { command, before, after };
}
