import { createHash, createPublicKey } from 'node:crypto';
import { usageError } from '../errors.js';
import type { RunOptions, RunResult } from '../system/run.js';

/**
 * DANE TLSA for the mail host (RFC 6698, RFC 7672): usage 3 (DANE-EE), selector 1 (the
 * SubjectPublicKeyInfo), matching type 1 (SHA-256). Pinning the public key rather than the whole
 * certificate means a renewal with the same key keeps the record; a new key changes it.
 */

export const TLSA_PARAMS = '3 1 1';

/** `_25._tcp.mail.st14.sne24.ru`. */
export const tlsaName = (host: string, port = 25) => `_${port}._tcp.${host}`;

/** SHA-256 (hex, lower case) of the DER SubjectPublicKeyInfo of the certificate's key (the first certificate in the PEM). */
export function spkiSha256(certificatePem: string | Buffer): string {
  let der: Buffer;
  try {
    der = createPublicKey(certificatePem).export({ type: 'spki', format: 'der' });
  } catch (err) {
    throw usageError(`TLS certificate: not a readable PEM certificate (${(err as Error).message})`, 'give the certificate Exim serves (tls_certificate)');
  }
  return createHash('sha256').update(der).digest('hex');
}

/**
 * What a sender's main log line for a delivery says about DANE: `DS` after the host name when the
 * lookups were DNSSEC-secured (log_selector +dnssec), `CV=dane` when the certificate was
 * authenticated by TLSA. Only the first message on a connection says so (later ones log `*`).
 */
export function daneLogFacts(logLine: string): { secured: boolean; dane: boolean } {
  return { secured: /\sDS\s\[/.test(logLine), dane: /\sCV=dane\b/.test(logLine) };
}

/** "3 1 1 <hex>" for the certificate. */
export const tlsaValue = (certificatePem: string | Buffer) => `${TLSA_PARAMS} ${spkiSha256(certificatePem)}`;

/** "3 1 1 0C72 AC70" or "3 1 1 0c72ac70" -> "3 1 1 0c72ac70": one spelling to compare. */
export function normaliseTlsa(rdata: string): string {
  const [usage, selector, type, ...hex] = rdata.trim().split(/\s+/);
  return `${usage} ${selector} ${type} ${hex.join('').toLowerCase()}`;
}

/** The answer of `dig` for one name and type: its status, flags and records. */
export interface DigAnswer {
  command: string;
  /** dig's output, for evidence. */
  output: string;
  /** NOERROR, NXDOMAIN, SERVFAIL, REFUSED; undefined when no server answered. */
  status?: string;
  /** The header flags (qr rd ra ad ...). `ad` is set only by a validating resolver. */
  flags: string[];
  /** The record data of the answer section for the asked type, normalised for TLSA. */
  records: string[];
  /** The node:dns error code the outcome corresponds to (ENOTFOUND, ENODATA, ...), when no records. */
  code?: string;
}

export type Runner = (file: string, args: readonly string[], opts?: RunOptions) => Promise<RunResult>;

const STATUS_CODE: Record<string, string> = { NXDOMAIN: 'ENOTFOUND', SERVFAIL: 'ESERVFAIL', REFUSED: 'EREFUSED', NOTIMP: 'ENOTIMP' };

/** Reads dig's default output: the ->>HEADER<<- status, the flags line and the answer section. */
export function parseDig(output: string, type: string): Omit<DigAnswer, 'command' | 'output'> {
  const status = /status: ([A-Z]+)/.exec(output)?.[1];
  const flags = /;; flags: ([^;]*);/.exec(output)?.[1]?.trim().split(/\s+/) ?? [];
  const records: string[] = [];
  let inAnswer = false;
  for (const line of output.split('\n')) {
    if (/^;; ANSWER SECTION:/.test(line)) inAnswer = true;
    else if (/^;; [A-Z]+ SECTION:/.test(line) || (inAnswer && !line.trim())) inAnswer = false;
    else if (inAnswer && !line.startsWith(';')) {
      const m = new RegExp(`^\\S+\\s+\\d+\\s+IN\\s+${type}\\s+(.+)$`).exec(line.trim());
      if (m) records.push(type === 'TLSA' ? normaliseTlsa(m[1]!) : m[1]!.trim());
    }
  }
  let code: string | undefined;
  if (!records.length) code = status === undefined ? 'ETIMEOUT' : (STATUS_CODE[status] ?? 'ENODATA');
  return { status, flags, records, ...(code ? { code } : {}) };
}

/**
 * Asks for a record type node:dns cannot query in Node 20 (TLSA) with BIND's dig, a real DNS
 * client, run through the caller's runner (the machine, or a lab host's view). One try, 2 s.
 */
export async function digQuery(run: Runner, name: string, type: string, server?: string): Promise<DigAnswer> {
  const args = [...(server ? [`@${server}`] : []), '+time=2', '+tries=1', '+dnssec', name, type];
  const r = await run('dig', args, { allowFailure: true, timeoutMs: 5000 });
  const output = [r.stdout, r.stderr].filter((s) => s.trim()).join('\n');
  if (r.exitCode !== 0 && !/status:/.test(output)) {
    return { command: r.command, output, flags: [], records: [], code: /not found|ENOENT/i.test(output) ? 'ENODIG' : 'ETIMEOUT' };
  }
  return { command: r.command, output, ...parseDig(output, type) };
}
