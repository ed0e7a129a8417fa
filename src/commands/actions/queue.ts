import { LabError } from '../../errors.js';
import { checkDnsName } from '../../config/validate.js';
import { checkMessageId, flushQueue, queueEntries, queueEntry, showMessage, type QueueEntry, type QueueHost } from '../../queue/read.js';
import { explainWhy } from '../../queue/why.js';
import { locked } from '../locked.js';
import { checkHostFlags, eximHost, type HostFlags } from './exim-host.js';

export interface QueueFlags extends HostFlags {
  json?: boolean;
  domain?: string;
}

const queueHost = (flags: QueueFlags): Promise<QueueHost> => eximHost(flags);

const json = (value: unknown) => console.log(JSON.stringify(value, null, 2));

function entryLines(e: QueueEntry): string[] {
  const lines = [`${e.id}  ${e.age.padStart(4)}  ${e.size.padStart(5)}  <${e.sender}>${e.frozen ? '  *** frozen ***' : ''}`];
  for (const r of e.recipients) lines.push(`    ${r.delivered ? 'D ' : ''}${r.address}`);
  if (e.retry.nextTry) lines.push(`    next try at: ${e.retry.nextTry} (exinext)`);
  else if (e.pending) lines.push('    next try at: the next queue run (no retry hint)');
  if (e.retry.rule) lines.push(`    retry rule:  ${e.retry.rule.pattern} ${e.retry.rule.error} ${e.retry.rule.rules} (exim -brt)`);
  if (e.lastFailure) lines.push(`    last failure: ${e.lastFailure}`);
  return lines;
}

const withId = (id: string, flags: QueueFlags) => ({ id: checkMessageId(id), flags: checkHostFlags(flags) });

/** `labctl queue`: the list. */
export const queueListAction = locked('shared', (flags: QueueFlags) => checkHostFlags(flags), async (flags) => {
  const host = await queueHost(flags);
  const { entries } = await queueEntries(host);
  if (flags.json) return json({ host: host.name ?? null, count: entries.length, messages: entries });
  if (!entries.length) return console.log(`the queue${host.name ? ` of ${host.name}` : ''} is empty`);
  console.log(`${entries.length} message(s) queued${host.name ? ` on ${host.name}` : ''}:`);
  for (const e of entries) console.log(entryLines(e).join('\n'));
});

/** `labctl queue show ID`. */
export const queueShowAction = locked('shared', withId, async ({ id, flags }) => {
  const parts = await showMessage(await queueHost(flags), id);
  if (flags.json) return json(parts);
  console.log(`== headers (exim -Mvh ${id})\n${parts.headers}\n== body (exim -Mvb ${id})\n${parts.body}\n== message log (exim -Mvl ${id})\n${parts.log}`);
});

/** `labctl queue why ID`. */
export const queueWhyAction = locked('shared', withId, async ({ id, flags }) => {
  const host = await queueHost(flags);
  const entry = await queueEntry(host, id);
  const answer = explainWhy(entry, host.queueInterval, Date.now());
  if (flags.json) return json({ ...answer, message: entry });
  console.log(answer.paragraph);
});

/** `labctl queue flush [--domain D]`. */
export const queueFlushAction = locked(
  'exclusive',
  (flags: QueueFlags) => {
    if (flags.domain !== undefined) checkDnsName('--domain', flags.domain);
    return checkHostFlags(flags);
  },
  async (flags) => {
    const host = await queueHost(flags);
    const { command, before, after } = await flushQueue(host, flags.domain);
    if (flags.json) return json({ command: command.command, before, after: after.length, left: after.map((m) => m.id) });
    console.log(`${command.command}: ${before} message(s) before, ${after.length} left${after.length ? ` (${after.map((m) => m.id).join(', ')}; labctl queue why ID says why)` : ''}`);
    if (after.length && flags.domain === undefined && after.length === before) throw new LabError('nothing was delivered', 'why each message is still there: labctl queue why ID');
  },
);
