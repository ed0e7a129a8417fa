import { constants as fsConstants, promises as fs } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
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

/** How execa named the signals a program is most often ended by, for the same messages. */
const SIGNALS: Partial<Record<NodeJS.Signals, string>> = {
  SIGTERM: 'Termination',
  SIGKILL: 'Forced termination',
  SIGINT: 'User interruption with CTRL-C',
  SIGHUP: 'Terminal closed',
  SIGABRT: 'Aborted',
  SIGSEGV: 'Segmentation fault',
  SIGPIPE: 'Broken pipe or socket',
};

/** Output as execa gave it (stripFinalNewline): without one trailing newline. */
const stripFinalNewline = (s: string) => s.replace(/\r?\n$/, '');

/**
 * Runs a program (never through a shell) and collects its output. node:child_process, not
 * execa: this runs on every command's path, and loading execa and its per-call set-up cost more
 * than the programs a warm `labctl install` asks. As execa
 * did for it: the environment extends labctl's own, stdin is closed unless given input, a
 * timeout sends SIGTERM (SIGKILL 5 s later), and each output loses one trailing newline.
 */
export async function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const command = showCommand(file, args);
  const outcome = await new Promise<{ exitCode?: number; signal?: NodeJS.Signals; stdout: string; stderr: string; error?: Error; timedOut: boolean }>((resolve) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    let error: Error | undefined;
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (c: Buffer) => stdout.push(c));
    child.stderr?.on('data', (c: Buffer) => stderr.push(c));
    const timers: NodeJS.Timeout[] = [];
    if (opts.timeoutMs) {
      timers.push(
        setTimeout(() => {
          timedOut = true;
          child.kill('SIGTERM');
          timers.push(setTimeout(() => child.kill('SIGKILL'), 5000));
        }, opts.timeoutMs),
      );
    }
    child.on('error', (err) => (error ??= err));
    if (opts.input !== undefined && child.stdin) {
      // A program that exits without reading its input closes the pipe: not an error of ours.
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input);
    }
    child.on('close', (code, signal) => {
      for (const t of timers) clearTimeout(t);
      const text = (b: Buffer[]) => stripFinalNewline(Buffer.concat(b).toString('utf8'));
      resolve({ exitCode: code ?? undefined, signal: signal ?? undefined, stdout: text(stdout), stderr: text(stderr), error, timedOut });
    });
  });
  if (outcome.exitCode === undefined || (outcome.error && outcome.exitCode !== 0)) {
    const why = outcome.timedOut
      ? `timed out after ${opts.timeoutMs} ms`
      : outcome.error
        ? outcome.error.message
        : `Command was killed with ${outcome.signal ?? 'a signal'}${outcome.signal && SIGNALS[outcome.signal] ? ` (${SIGNALS[outcome.signal]})` : ''}: ${command}`;
    if (opts.allowFailure) return { command, exitCode: -1, stdout: outcome.stdout, stderr: why };
    throw new LabError(`${command}: ${why}`);
  }
  const out: RunResult = { command, exitCode: outcome.exitCode, stdout: outcome.stdout, stderr: outcome.stderr };
  if (out.exitCode !== 0 && !opts.allowFailure) {
    const detail = (out.stderr || out.stdout).trim().split('\n').slice(-3).join(' | ');
    throw new LabError(`${command} exited with ${out.exitCode}${detail ? `: ${detail}` : ''}`);
  }
  return out;
}

/**
 * Where a program is found on PATH (as `command -v` finds an executable), or undefined. Read from
 * the file system, without spawning a shell.
 */
export async function which(program: string): Promise<string | undefined> {
  const candidates = program.includes('/') ? [program] : (process.env.PATH ?? '').split(':').map((dir) => path.join(dir || '.', program));
  for (const file of candidates) {
    const st = await fs.stat(file).catch(() => undefined);
    if (st?.isFile() && (await fs.access(file, fsConstants.X_OK).then(() => true, () => false))) return file;
  }
  return undefined;
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
  const { execa } = await import('execa');
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
  const { execa } = await import('execa');
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
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout.push(chunk);
    text += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr.push(chunk);
    text += chunk.toString();
  });
  child.on('error', () => {});
  const done = new Promise<RunResult>((resolve) =>
    child.on('close', (code) => resolve({ command, exitCode: code ?? -1, stdout: stripFinalNewline(Buffer.concat(stdout).toString()), stderr: stripFinalNewline(Buffer.concat(stderr).toString()) })),
  );
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

