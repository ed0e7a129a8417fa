/**
 * Cleanups for Ctrl-C and `kill`: a download's `.part` file, an extraction's temporary tree.
 * Library code registers a synchronous cleanup while it holds something to undo and removes it
 * when done; the CLI installs the signal handlers once. On SIGINT or SIGTERM the handler runs
 * every registered cleanup, then lets the signal end the process as it would have without
 * labctl (the shell sees "killed by SIGINT", exit status 128+n).
 */
import os from 'node:os';

export type InterruptSignal = 'SIGINT' | 'SIGTERM';
const SIGNALS: InterruptSignal[] = ['SIGINT', 'SIGTERM'];

const cleanups = new Set<() => void>();

/**
 * Registers `cleanup` to run if the process is interrupted; returns the function that
 * unregisters it. The cleanup must be synchronous (the process ends right after it).
 */
export function onInterrupt(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

/** How many cleanups are registered now (for tests: none should outlive its operation). */
export const pendingInterruptCleanups = (): number => cleanups.size;

/** Runs and forgets every registered cleanup; one that throws does not stop the others. */
export function runInterruptCleanups(): void {
  const all = [...cleanups];
  cleanups.clear();
  for (const cleanup of all) {
    try {
      cleanup();
    } catch {
      // Best effort: the process is going away, and the next run removes stale files too.
    }
  }
}

let installed: ((signal: InterruptSignal) => void) | undefined;

function handle(signal: InterruptSignal): void {
  runInterruptCleanups();
  uninstallInterruptHandlers();
  if (process.listenerCount(signal) === 0) {
    // No handler is left, so the default action applies: the process dies of the signal.
    process.kill(process.pid, signal);
    return;
  }
  // Someone else listens too (a prompt library restoring the terminal): end with the
  // conventional status rather than leave the process running.
  process.exit(128 + os.constants.signals[signal]);
}

/** Installs the SIGINT and SIGTERM handlers; the CLI calls this once. Calling again is harmless. */
export function installInterruptHandlers(): void {
  if (installed) return;
  installed = handle;
  for (const signal of SIGNALS) process.on(signal, handle);
}

export function uninstallInterruptHandlers(): void {
  if (!installed) return;
  for (const signal of SIGNALS) process.removeListener(signal, installed);
  installed = undefined;
}
