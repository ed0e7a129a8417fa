import path from 'node:path';
import { LabError } from '../errors.js';
import type { EximHost } from '../system/hostview.js';
import { parseOptions } from '../exim-options.js';
import { eximLogPath, logLines, type EximLogName } from './paths.js';

/**
 * `labctl logs`: Exim's main, reject and panic logs of one host, or one message's lines in a log
 * (exigrep, which also follows the lines of the same delivery that do not carry the id).
 */
export interface LogExcerpt {
  log: EximLogName;
  path: string;
  /** Whether the file exists; a missing reject or panic log just means nothing was written yet. */
  exists: boolean;
  /** The command that selected the lines (exigrep), when one did. */
  command?: string;
  lines: string[];
  /** Lines in the file (or exigrep's answer) before `lines` kept only the last ones. */
  total: number;
}

export async function logPath(host: EximHost, name: EximLogName): Promise<string> {
  const r = await host.view.run(host.exim, [...(host.config ? ['-C', host.config] : []), '-bP', 'spool_directory', 'log_file_path'], { timeoutMs: 15_000 });
  if (r.exitCode !== 0) throw new LabError(`exim -bP exited ${r.exitCode}: ${(r.stderr || r.stdout).split('\n')[0]}`, 'is Exim installed and configured? (labctl install, labctl configure)');
  return eximLogPath(parseOptions(r.stdout), name);
}

export async function readLog(host: EximHost, name: EximLogName, opts: { id?: string; lines?: number } = {}): Promise<LogExcerpt> {
  const file = await logPath(host, name);
  const text = await host.view.readFile(file, { tailBytes: 8 << 20 });
  if (text === undefined) return { log: name, path: file, exists: false, lines: [], total: 0 };
  let all = logLines(text);
  let command: string | undefined;
  if (opts.id) {
    const r = await host.view.run(path.join(path.dirname(host.exim), 'exigrep'), [opts.id, file], { timeoutMs: 60_000 });
    // exigrep exits 1 when nothing matches; other codes are failures.
    if (r.exitCode > 1) throw new LabError(`${r.command} exited ${r.exitCode}: ${(r.stderr || r.stdout).split('\n')[0]}`);
    command = r.command;
    all = logLines(r.stdout);
  }
  const keep = opts.lines && !opts.id ? all.slice(-opts.lines) : all;
  return { log: name, path: file, exists: true, command, lines: keep, total: all.length };
}
