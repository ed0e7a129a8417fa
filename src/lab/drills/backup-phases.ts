import type { CpuUse } from '../../system/cpu.js';
import { parseStamp } from '../hosts/logs.js';
import type { CpuCeiling, LogPhase, LogPhases } from '../../evidence/payloads.js';

/** The figures' shapes belong to the drill's evidence payload (src/evidence/payloads.ts). */
export type { CpuCeiling, LogPhase, LogPhases };

const round1 = (x: number) => Math.round(x * 10) / 10;

export function cpuCeiling(use: CpuUse, messages: number): CpuCeiling | undefined {
  if (messages <= 0 || use.busySeconds <= 0) return undefined;
  const perMessage = use.busySeconds / messages;
  return { cpuMsPerMessage: round1(perMessage * 1000), busyShare: Math.round(use.busyShare * 100) / 100, cores: use.cores, ceiling: round1(use.cores / perMessage) };
}

export const describeCeiling = (c: CpuCeiling) =>
  `CPU ${c.cpuMsPerMessage} ms per message (${Math.round(c.busyShare * 100)}% of ${c.cores} cores busy); at 100% of them the machine's ceiling is ${c.ceiling}/s`;

function phase(stamps: number[]): LogPhase | undefined {
  if (!stamps.length) return undefined;
  // A loop, not Math.min(...stamps): a spread of 100,000 arguments is near V8's stack limit.
  const first = stamps.reduce((a, b) => Math.min(a, b));
  const last = stamps.reduce((a, b) => Math.max(a, b));
  const seconds = (last - first) / 1000;
  return { count: stamps.length, seconds: round1(seconds), rate: round1(seconds > 0 ? stamps.length / seconds : stamps.length), first, last };
}

export function logPhases(backupLog: string, primaryLog: string, o: { recipient: string; primaryHost: string; runId: string }): LogPhases {
  const stamps = (text: string, keep: (l: string) => boolean) => text.split('\n').filter(keep).map(parseStamp).filter((t): t is number => t !== undefined);
  const send = stamps(backupLog, (l) => l.includes(` => ${o.recipient} `) && l.includes(`H=${o.primaryHost} `));
  const accept = stamps(primaryLog, (l) => l.includes(' <= ') && l.includes(` id=${o.runId}`));
  const deliver = stamps(primaryLog, (l) => / => /.test(l) && l.includes(`<${o.recipient}>`) && l.includes('T=local_delivery'));
  const out: LogPhases = {};
  const s = phase(send);
  const a = phase(accept);
  const d = phase(deliver);
  if (s) out.backupSend = s;
  if (a) out.primaryAccept = a;
  if (d) out.primaryDeliver = d;
  if (s && d) {
    const seconds = (d.last - s.first) / 1000;
    out.endToEnd = { count: d.count, seconds: round1(seconds), rate: round1(seconds > 0 ? d.count / seconds : d.count), first: s.first, last: d.last };
  }
  return out;
}

export const describePhases = (p: LogPhases) =>
  (['backupSend', 'primaryAccept', 'primaryDeliver', 'endToEnd'] as const)
    .filter((k) => p[k])
    .map((k) => `${k} ${p[k]!.count} in ${p[k]!.seconds} s (${p[k]!.rate}/s)`)
    .join(', ');
