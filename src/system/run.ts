import { constants as osConstants } from 'node:os';
import { execa, type Options } from 'execa';
import { LabError } from '../errors.js';

export interface RunResult {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Do not throw on a non-zero exit; the caller reads exitCode. */
  allowFailure?: boolean;
}

/** Shell-like rendering of a command, for plans, logs and evidence. */
export function showCommand(file: string, args: readonly string[]): string {
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [file, ...args].map(quote).join(' ');
}

/** Runs a program (never through a shell) and collects its output. */
export async function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const command = showCommand(file, args);
  const options: Options = {
    input: opts.input,
    cwd: opts.cwd,
    env: opts.env,
    timeout: opts.timeoutMs,
    reject: false,
    stripFinalNewline: true,
    stdin: opts.input === undefined ? 'ignore' : undefined,
  };
  const result = await execa(file, args, options);
  if (result.failed && result.exitCode === undefined) {
    const why = result.timedOut ? `timed out after ${opts.timeoutMs} ms` : String(result.originalMessage ?? result.message);
    if (opts.allowFailure) return { command, exitCode: -1, stdout: String(result.stdout ?? ''), stderr: why };
    throw new LabError(`${command}: ${why}`);
  }
  const out: RunResult = {
    command,
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
  };
  if (out.exitCode !== 0 && !opts.allowFailure) {
    const detail = (out.stderr || out.stdout).trim().split('\n').slice(-3).join(' | ');
    throw new LabError(`${command} exited with ${out.exitCode}${detail ? `: ${detail}` : ''}`);
  }
  return out;
}

/** True when a program can be found on PATH. */
export async function which(program: string): Promise<string | undefined> {
  const r = await run('sh', ['-c', 'command -v "$1"', 'sh', program], { allowFailure: true });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/**
 * Runs a long program (make) with its combined output appended to a log file; each output line
 * is also handed to `onLine` (for a live status line). Throws with the exit code on failure.
 */
export async function runLogged(
  file: string,
  args: readonly string[],
  opts: { cwd: string; logFile: string; onLine?: (line: string) => void; env?: Record<string, string> },
): Promise<void> {
  const { createWriteStream } = await import('node:fs');
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  log.write(`$ ${showCommand(file, args)}   (in ${opts.cwd})\n`);
  const child = execa(file, args, { cwd: opts.cwd, env: opts.env, all: true, reject: false, stdin: 'ignore', buffer: false });
  let pending = '';
  child.all?.on('data', (chunk: Buffer) => {
    log.write(chunk);
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) opts.onLine?.(l);
  });
  const result = await child;
  await new Promise<void>((resolve) => log.end(resolve));
  if (result.exitCode !== 0) throw new LabError(`${showCommand(file, args)} failed with exit code ${result.exitCode ?? 'unknown'}`);
}

/**
 * Runs a program with the terminal attached (a shell in a lab host, labctl itself inside a
 * namespace) and resolves with its exit status (128 + n when a signal ended it).
 */
export async function runAttached(file: string, args: readonly string[]): Promise<number> {
  const r = await execa(file, args, { stdio: 'inherit', reject: false });
  if (r.exitCode !== undefined) return r.exitCode;
  if (r.signal) return 128 + (osConstants.signals[r.signal] ?? 0);
  throw new LabError(`${showCommand(file, args)}: ${String(r.originalMessage ?? r.message)}`);
}

/** A program left running while labctl works (a packet capture); `stop` ends it and collects its output. */
export interface Background {
  pid: number;
  /** Output so far (stdout and stderr together). */
  output(): string;
  /** Sends `signal` (default SIGINT, so a capture flushes its file) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<RunResult>;
}

export function runInBackground(file: string, args: readonly string[]): Background {
  const command = showCommand(file, args);
  const child = execa(file, args, { all: true, reject: false, stdin: 'ignore', buffer: true });
  let text = '';
  child.all?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const done = child.then((r) => ({ command, exitCode: r.exitCode ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') }));
  if (child.pid === undefined) throw new LabError(`${command}: could not start`);
  return {
    pid: child.pid,
    output: () => text,
    async stop(signal: NodeJS.Signals = 'SIGINT') {
      child.kill(signal);
      return done;
    },
  };
}
