import chalk from 'chalk';
import { EXIT, LabError, usageError } from '../../errors.js';
import { locked } from '../locked.js';
import { machineBackupDrill } from '../../drill/backup-mx.js';
import { machinePair } from '../../drill/machine-pair.js';
import { machineWireDrill } from '../../drill/wire.js';
import { positiveInt } from './lab-common.js';

interface PairFlags {
  partner?: string;
  json?: boolean;
}

const needRoot = (what: string) => {
  if (process.getuid?.() !== 0) throw new LabError(`labctl drill ${what} needs root (it ${what === 'wire' ? 'captures packets with tcpdump' : "stops and starts this machine's Exim"})`, 'run it with sudo', EXIT.preflight);
};

const seconds = (flag: string, v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 86400) throw usageError(`${flag}: "${v}" is not a number of seconds from 1 to 86400`);
  return n * 1000;
};

/** labctl drill backup-mx */
export const backupMxAction = locked('exclusive', (o: PairFlags & { messages: string; waitRetry?: boolean; timeout?: string; from?: string }) => {
  if (o.from !== undefined && !/^[^@\s<>]+@[^@\s<>]+$/.test(o.from)) throw usageError(`--from: "${o.from}" is not an address`);
  const messages = positiveInt('--messages', o.messages);
  const timeoutMs = o.timeout !== undefined ? seconds('--timeout', o.timeout) : o.waitRetry ? 900_000 : 120_000;
  needRoot('backup-mx');
  return { o, messages, timeoutMs };
}, async ({ o, messages, timeoutMs }) => {
  const pair = await machinePair(o.partner);
  const log = o.json ? undefined : (l: string) => console.error(chalk.dim(l));
  const r = await machineBackupDrill(pair, { messages, waitRetry: !!o.waitRetry, timeoutMs, from: o.from, log });
  const f = r.figures;
  if (o.json) console.log(JSON.stringify({ ...f, runId: r.timeline.runId }, null, 2));
  else {
    console.log(`backup-mx drill between two machines (${o.waitRetry ? "the partner's retry, 4c" : 'ETRN, 5c'}): ${f.primary} down, ${f.backup} as backup`);
    console.log(`  sent ${f.sent}, accepted by ${f.backup} ${f.heldOnBackup}, delivered ${f.delivered}, lost ${f.lost}, duplicates ${f.duplicates}`);
    console.log(`  held on ${f.backup}: ${f.heldPerMessage?.length ? `${Math.min(...f.heldPerMessage)}-${Math.max(...f.heldPerMessage)} s per message (from their Received: headers)` : 'unknown'}; all in ${f.recoverySeconds} s after ${f.primary} returned`);
    console.log(`  phases: ${Object.entries(f.phases).map(([k, v]) => `${k} ${v} s`).join(', ')}`);
  }
  if (!r.ok) throw new LabError(`backup-mx drill failed: ${f.lost} lost, ${f.duplicates} duplicated`, `see ${f.backup}'s queue and labctl report`);
  });

/** labctl drill wire */
export const wireAction = locked('exclusive', (o: PairFlags) => {
  needRoot('wire');
  return o;
}, async (o) => {
  const pair = await machinePair(o.partner);
  const r = await machineWireDrill(pair, { log: o.json ? undefined : (l) => console.error(chalk.dim(l)) });
  const mark = (ok: boolean) => (ok ? chalk.green('pass') : chalk.red('FAIL'));
  if (o.json) console.log(JSON.stringify({ tls: r.tls, plain: r.plain, smtps: r.smtps, pcap: r.pcap, control: r.control }, null, 2));
  else {
    for (const l of r.summary) console.log(chalk.dim(`  ${l}`));
    for (const n of r.notes) console.log(n);
    console.log(`${mark(r.tls.ok)}  STARTTLS: in the clear ${r.tls.plainCommands.join(' | ')}; then ${r.tls.onlyTlsAfterStartTls ? 'only TLS records' : 'NOT only TLS'} (${r.tls.tlsVersion ?? '?'}, ${r.tls.cipher ?? '?'}); marker ${r.tls.markerFound ? 'FOUND in the capture' : 'nowhere in the capture'}`);
    console.log(`${mark(r.plain.ok)}  control (${r.control === 'ehlo' ? 'plaintext EHLO' : 'plaintext message'}): marker ${r.plain.markerFound ? `in the clear, packet ${r.plain.packet}, payload offset ${r.plain.offset}` : 'not found'}`);
    console.log(`${mark(r.smtps.ok)}  SMTPS 465: TLS from the first byte ${r.smtps.tlsFromFirstByte ? 'yes' : 'no'}; marker ${r.smtps.markerFound ? 'FOUND' : 'nowhere in the capture'}`);
    console.log(`capture: ${r.pcap} (open it in Wireshark)`);
  }
  if (!r.ok) throw new LabError('wire drill failed: the capture does not prove the encryption', 'see the lines above and the capture');
  });
