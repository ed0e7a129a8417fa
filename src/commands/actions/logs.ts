import { usageError } from '../../errors.js';
import { readLog, type LogExcerpt } from '../../logs/read.js';
import type { EximLogName } from '../../logs/paths.js';
import { checkMessageId } from '../../queue/read.js';
import { locked } from '../locked.js';
import { checkHostFlags, eximHost, type HostFlags } from './exim-host.js';

export interface LogsFlags extends HostFlags {
  id?: string;
  reject?: boolean;
  panic?: boolean;
  main?: boolean;
  lines: string;
  json?: boolean;
}

function parse(flags: LogsFlags) {
  checkHostFlags(flags);
  const lines = Number(flags.lines);
  if (!/^\d+$/.test(flags.lines) || lines < 1) throw usageError(`--lines ${flags.lines}: expected a positive whole number`);
  const id = flags.id === undefined ? undefined : checkMessageId(flags.id);
  const logs: EximLogName[] = [...(flags.main ? ['main' as const] : []), ...(flags.reject ? ['reject' as const] : []), ...(flags.panic ? ['panic' as const] : [])];
  return { flags, lines, id, logs: logs.length ? logs : (['main'] as EximLogName[]) };
}

function show(x: LogExcerpt, id?: string): string {
  const what = id ? `${x.command} (${x.total} line(s))` : `${x.path}${x.total > x.lines.length ? ` (last ${x.lines.length} of ${x.total} lines)` : ''}`;
  const body = !x.exists ? `(no such file: nothing was written to the ${x.log} log yet)` : x.lines.length ? x.lines.join('\n') : id ? `(no lines about ${id})` : '(empty)';
  return `== ${x.log} log: ${what}\n${body}`;
}

/** `labctl logs`. */
export const logsAction = locked('shared', parse, async ({ flags, lines, id, logs }) => {
  const host = await eximHost(flags);
  const out: LogExcerpt[] = [];
  for (const name of logs) out.push(await readLog(host, name, { id, lines }));
  if (flags.json) return console.log(JSON.stringify({ host: host.name ?? null, logs: out }, null, 2));
  console.log(out.map((x) => show(x, id)).join('\n\n'));
});
