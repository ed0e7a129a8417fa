import { execa } from 'execa';
import { Console } from 'node:console';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const labctlBin = path.join(repoRoot, 'bin/labctl');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout, a newline, stderr. */
  all: string;
}

/** Runs the built CLI (npm test builds it first) and never throws on a non-zero exit. */
export async function labctl(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; input?: string; onSpawn?: (pid: number) => void } = {}): Promise<CliResult> {
  const child = execa('node', [labctlBin, ...args], {
    cwd: repoRoot,
    env: { NO_COLOR: '1', ...opts.env },
    reject: false,
    timeout: opts.timeoutMs ?? 600_000,
    input: opts.input,
    stdin: opts.input === undefined ? 'ignore' : undefined,
  });
  if (child.pid !== undefined) opts.onSpawn?.(child.pid);
  const r = await child;
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), all: `${r.stdout}\n${r.stderr}` };
}

/**
 * The same run as labctl() above, the built CLI's own main() with the same arguments and
 * environment, but in this test process instead of a new node: a spawned run costs 0.2 s of CPU
 * here, almost all of it node starting and loading modules, and the unit suite waits for CPU.
 * For runs that end in this process's hands: usage errors, a lock refusal, a command that reads
 * files and prints. A test about the process itself (its pid, a signal, what it loads, its exit
 * through process.exit) spawns with labctl(). Runs here go one at a time: each has the process's
 * console, environment, argv, cwd, umask, signal and exit listeners and exit code to itself, all
 * put back when it ends (a concurrent test of the same file that is not a run here sees them while
 * it runs). Output as execa gives it: stdout and stderr each without their last newline.
 */
export function labctlHere(args: string[], opts: { env?: Record<string, string> } = {}): Promise<CliResult> {
  const run = queue.then(() => runHere(args, opts.env ?? {}));
  queue = run.then(
    () => undefined,
    () => undefined,
  );
  return run;
}

let queue: Promise<unknown> = Promise.resolve();
// Below the unit tests' 30 s test timeout, so the run's own test reports it.
const RUN_TIMEOUT_MS = 20_000;
/** A run that timed out is still going in this process: its writes and exit code would land in the next run's, so none starts. */
let stillRunning: string | undefined;
// Node's own import, not the test runner's: dist/ is the built CLI, loaded as a spawned run loads it.
const dist = (module: string) => import(/* @vite-ignore */ pathToFileURL(path.join(repoRoot, 'dist', module)).href);
const SAVED_LISTENERS = ['SIGINT', 'SIGTERM', 'exit'] as const;

async function runHere(args: string[], env: Record<string, string>): Promise<CliResult> {
  if (stillRunning) throw new Error(`labctl ${args.join(' ')}: not run, because labctl ${stillRunning} timed out and is still running in this process`);
  const { main } = (await dist('cli.js')) as { main(argv: string[]): Promise<void> };
  const { uninstallInterruptHandlers } = (await dist('system/interrupt.js')) as { uninstallInterruptHandlers(): void };
  const out: string[] = [];
  const err: string[] = [];
  const collect = (to: string[]) => ((chunk: Buffer | string, ...rest: unknown[]) => {
    to.push(String(chunk));
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    done?.();
    return true;
  }) as typeof process.stdout.write;

  const saved = {
    env: { ...process.env },
    argv: process.argv,
    cwd: process.cwd(),
    exitCode: process.exitCode,
    umask: process.umask(),
    console: globalThis.console,
    stdoutWrite: process.stdout.write,
    stderrWrite: process.stderr.write,
    listeners: SAVED_LISTENERS.map((s) => [s, process.listeners(s)] as const),
  };
  Object.assign(process.env, { NO_COLOR: '1' }, env);
  process.argv = [process.execPath, labctlBin, ...args];
  process.chdir(repoRoot);
  process.exitCode = undefined;
  process.stdout.write = collect(out);
  process.stderr.write = collect(err);
  // A console of the run's own on the two streams, whose writes are now collected.
  globalThis.console = new Console({ stdout: process.stdout, stderr: process.stderr });
  let exitCode: number | string | null | undefined;
  // As labctl() times a spawned run out: a run that hangs fails its own test (this call rejects)
  // and the runs queued after it (above), not with their own test's time-out.
  const hang = new Error(`labctl ${args.join(' ')}: no end after ${RUN_TIMEOUT_MS / 1000} s in this process`);
  let hung = false;
  try {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(hang), RUN_TIMEOUT_MS);
    });
    await Promise.race([main([process.execPath, labctlBin, ...args]), timeout]).finally(() => clearTimeout(timer));
    exitCode = process.exitCode;
  } catch (e) {
    if (e === hang) {
      hung = true;
      stillRunning = args.join(' ');
    } else {
      // What bin/labctl does with an error main() lets through: print it, exit 70.
      console.error(e);
      exitCode = 70;
    }
  } finally {
    // main() installed its Ctrl-C handlers once; forget them, so the next run installs its own.
    uninstallInterruptHandlers();
    process.stdout.write = saved.stdoutWrite;
    process.stderr.write = saved.stderrWrite;
    globalThis.console = saved.console;
    for (const [signal, listeners] of saved.listeners) {
      process.removeAllListeners(signal);
      for (const l of listeners) process.on(signal, l as () => void);
    }
    process.umask(saved.umask);
    process.chdir(saved.cwd);
    process.argv = saved.argv;
    process.exitCode = saved.exitCode;
    for (const k of Object.keys(process.env)) if (!(k in saved.env)) delete process.env[k];
    Object.assign(process.env, saved.env);
  }
  if (hung) throw hang;
  const stdout = out.join('').replace(/\r?\n$/, '');
  const stderr = err.join('').replace(/\r?\n$/, '');
  return { exitCode: Number(exitCode ?? 0), stdout, stderr, all: `${stdout}\n${stderr}` };
}

/** The offline mirror made from Debian's exim4 source package (scripts/mirror-from-debian.sh), made once per run. */
export async function offlineMirror(): Promise<string> {
  const dir = process.env.LABCTL_TEST_MIRROR ?? path.join(repoRoot, 'build/mirror');
  const { existsSync } = await import('node:fs');
  // 4.96, 4.98.2 and 4.100.1: the releases Debian's archive carries (labctl mirror lays them out).
  if (!['4.96', '4.98.2', '4.100.1'].every((v) => existsSync(path.join(dir, `exim4/exim-${v}.tar.xz.asc`)))) {
    await execa('bash', [path.join(repoRoot, 'scripts/mirror-from-debian.sh'), dir], { stdio: 'inherit' });
  }
  return dir;
}
