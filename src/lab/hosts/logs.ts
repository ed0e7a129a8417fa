import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileSize, readFrom } from '../../system/files.js';
import { headerValue, splitMbox } from '../../verify/mailbox.js';
import { labPaths, type LabMailHostSpec } from '../topology.js';

/**
 * Reading a lab host's main log and mailboxes from outside its view: they are plain files under
 * the lab directory, so no namespace needs entering to read them.
 */
export interface LogEntry {
  /** Epoch ms of the line's timestamp (Exim logs local time; milliseconds with log_selector +millisec). */
  at: number;
  line: string;
}

const STAMP = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{3}))? /;

export function parseStamp(line: string): number | undefined {
  const m = STAMP.exec(line);
  if (!m) return undefined;
  const t = new Date(`${m[1]}T${m[2]}`).getTime();
  return Number.isNaN(t) ? undefined : t + Number(m[3] ?? 0);
}

/** Reception lines ("<=") keyed by the Message-ID they log (id=...), first one wins. */
export function receptions(text: string, idPrefix: string): Map<string, LogEntry> {
  const out = new Map<string, LogEntry>();
  for (const line of text.split('\n')) {
    if (!line.includes(' <= ')) continue;
    const id = / id=(\S+)/.exec(line)?.[1];
    if (!id || !id.startsWith(idPrefix) || out.has(id)) continue;
    out.set(id, { at: parseStamp(line) ?? 0, line });
  }
  return out;
}

/** Mail log lines since a byte offset: lets a drill look only at what happened during it. */
export async function logSize(host: LabMailHostSpec): Promise<number> {
  return fileSize(labPaths.host(host.name).mainlog);
}

/** Read from the byte offset itself (the log is not decoded before it is cut). */
export async function mainlogSince(host: LabMailHostSpec, offset: number): Promise<string> {
  return (await readFrom(labPaths.host(host.name).mainlog, offset)).toString('utf8');
}

/**
 * A host's reject log from a byte offset: the refusals a drill caused, kept in its evidence next
 * to the drill (the report shows them there).
 */
const rejectlogPath = (host: LabMailHostSpec) => path.join(labPaths.host(host.name).log, 'rejectlog');
export const rejectlogSize = (host: LabMailHostSpec) => fileSize(rejectlogPath(host));

export async function rejectlogItem(host: LabMailHostSpec, offset: number): Promise<{ kind: 'log'; label: string; text: string }> {
  const text = (await readFrom(rejectlogPath(host), offset)).toString('utf8').trim();
  return { kind: 'log', label: `${host.name}'s reject log, the lines this drill caused`, text: text || '(nothing was refused)' };
}

export const mailboxPath = (host: LabMailHostSpec, user: string) => path.join(labPaths.host(host.name).mail, user);

/** The full message (headers and body) whose Message-ID starts with `idPrefix`, if delivered. */
export async function mailboxMessage(host: LabMailHostSpec, user: string, idPrefix: string): Promise<{ headers: string; body: string } | undefined> {
  const text = await fs.readFile(mailboxPath(host, user), 'utf8').catch(() => '');
  return splitMbox(text).find((m) => (headerValue(m.headers, 'Message-ID') ?? '').replace(/^</, '').startsWith(idPrefix));
}

/** A sender's main log line for a delivery attempt to `address`: `=>` delivered, `==` deferred (the first one). */
export function attemptLine(log: string, address: string, kind: '=>' | '=='): string | undefined {
  return log.split('\n').find((l) => l.includes(` ${kind} `) && (kind === '==' || l.includes(`[${address}]`)));
}
