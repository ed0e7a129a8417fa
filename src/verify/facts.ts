import { parseOptions } from '../exim-options.js';
import { MAIL_SPOOL } from '../paths.js';
import { eximLogPath, type EximLogName } from '../logs/paths.js';
import { parseBv, type EximVersionInfo } from '../system/exim.js';
import type { RunResult } from '../system/run.js';
import type { EvidenceItem } from '../evidence/store.js';
import type { VerifyTarget } from './host.js';

/**
 * What several checks ask Exim about the host, asked once per run: `exim -bV`, the main
 * options (`exim -bP`) and the transports (`exim -bP transports`). Each answer is cached as a
 * promise, so checks running at once share one call.
 */
export interface EximCommand {
  result: RunResult;
  evidence: EvidenceItem;
}

export const commandEvidence = (label: string, r: RunResult): EvidenceItem => ({
  kind: 'command',
  label,
  command: r.command,
  exitCode: r.exitCode,
  text: [r.stdout, r.stderr].filter((s) => s.trim()).join('\n'),
});

/** Parses `exim -bP transports` (or routers): blocks headed "name transport:". */
export function parseDriverBlocks(text: string, kind: 'transport' | 'router'): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  const header = new RegExp(`^(\\S+) ${kind}:$`);
  let current: string[] | undefined;
  let name = '';
  const flush = () => {
    if (current) out.set(name, parseOptions(current.join('\n')));
  };
  for (const line of text.split('\n')) {
    const m = header.exec(line.trim());
    if (m) {
      flush();
      name = m[1];
      current = [];
    } else current?.push(line);
  }
  flush();
  return out;
}

const SERVICE_PORTS: Record<string, number> = { smtp: 25, smtps: 465, ssmtp: 465, submissions: 465, submission: 587 };

/** "smtp : 465 : submission" -> [25, 465, 587]. */
export function parsePortList(value: string | undefined): number[] {
  if (!value) return [];
  return value
    .split(/\s*:\s*|\s+/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => (/^\d+$/.test(p) ? Number(p) : SERVICE_PORTS[p]))
    .filter((p): p is number => Number.isInteger(p));
}

/** Environment warnings Exim prints on every call; they are noise in evidence. */
const NOISE = /^.*Warning: purging the environment\.\n? ?Suggested action: use keep_environment\.\n?/gm;
export const quiet = (r: RunResult): RunResult => ({ ...r, stderr: r.stderr.replace(NOISE, '').trim() });

export class Facts {
  private cache = new Map<string, Promise<unknown>>();
  constructor(readonly target: VerifyTarget) {}

  private once<T>(key: string, make: () => Promise<T>): Promise<T> {
    let p = this.cache.get(key) as Promise<T> | undefined;
    if (!p) {
      p = make();
      this.cache.set(key, p);
    }
    return p;
  }

  /** Runs the host's exim with these arguments (in the host's view). */
  async exim(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    const r = await this.target.view.run(this.target.eximBinary, args, { input: opts.input, timeoutMs: opts.timeoutMs ?? 10_000 });
    return quiet(r);
  }

  version(): Promise<EximVersionInfo> {
    return this.once('bV', async () => {
      const raw = await this.exim(['-bV']);
      return { ...parseBv(raw.stdout), raw };
    });
  }

  mainOptions(): Promise<{ options: Map<string, string>; result: RunResult }> {
    return this.once('bP', async () => {
      const result = await this.exim(['-bP']);
      if (result.exitCode !== 0) throw new Error(`exim -bP failed (exit ${result.exitCode}): ${(result.stderr || result.stdout).split('\n')[0]}`);
      return { options: parseOptions(result.stdout), result };
    });
  }

  async option(name: string): Promise<string | undefined> {
    return (await this.mainOptions()).options.get(name);
  }

  transports(): Promise<{ transports: Map<string, Map<string, string>>; result: RunResult }> {
    return this.once('bPt', async () => {
      const result = await this.exim(['-bP', 'transports']);
      if (result.exitCode !== 0) throw new Error(`exim -bP transports failed (exit ${result.exitCode}): ${(result.stderr || result.stdout).split('\n')[0]}`);
      return { transports: parseDriverBlocks(result.stdout, 'transport'), result };
    });
  }

  /** Ports the daemon should listen on, from daemon_smtp_ports and tls_on_connect_ports. */
  async ports(): Promise<{ listen: number[]; tlsOnConnect: number[] }> {
    const { options } = await this.mainOptions();
    const listen = parsePortList(options.get('daemon_smtp_ports') ?? 'smtp');
    const tlsOnConnect = parsePortList(options.get('tls_on_connect_ports'));
    return { listen: listen.length ? listen : [25], tlsOnConnect };
  }

  /** The main log's path as this host writes it (log_file_path, default <spool>/log/mainlog). */
  async mainlogPath(): Promise<string> {
    return this.logPath('main');
  }

  /** A log's path as this host writes it: main, reject or panic (src/logs/paths.ts). */
  async logPath(name: EximLogName): Promise<string> {
    return eximLogPath((await this.mainOptions()).options, name);
  }

  /** Main-log lines mentioning any of the given Exim message ids or strings. */
  async mainlogLines(needles: string[]): Promise<string[]> {
    const wanted = needles.filter(Boolean);
    if (!wanted.length) return [];
    const text = (await this.target.view.readFile(await this.mainlogPath(), { tailBytes: 4 << 20 })) ?? '';
    return text.split('\n').filter((l) => wanted.some((n) => l.includes(n)));
  }

  /** The user's mailbox file, from the local_delivery-like transport's `file` option. */
  async mailboxPath(user: string): Promise<string> {
    const { transports } = await this.transports();
    for (const [, t] of transports) {
      if (t.get('driver') !== 'appendfile') continue;
      const file = t.get('file');
      if (!file || !/\$\{?local_part/.test(file)) continue;
      const p = file.replace(/\$\{?local_part(_data)?\}?/g, user);
      if (!p.includes('$')) return p;
    }
    return `${MAIL_SPOOL}/${user}`;
  }
}
