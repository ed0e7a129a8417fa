import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { acquireLock, type LockMode } from '../system/lock.js';
import { showCommand } from '../system/run.js';

/**
 * The lock in the command layer: a command that changes the machine registers its action as
 * `.action(locked('exclusive', fn))`, one that reads what they write as `locked('shared', fn)`.
 * A mode may depend on the command's arguments and flags (a dry run only reads).
 */
export type LockFor<A extends unknown[]> = LockMode | ((...args: A) => LockMode);

/** The root option `labctl --wait SECONDS <command>`. */
export const WAIT_OPTION = {
  flags: '--wait <seconds>',
  description: 'when another labctl holds the lock, wait up to this long for it (default 0: exit 75 at once)',
} as const;

const MAX_WAIT_SECONDS = 24 * 3600;

export function parseWait(value: unknown): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+(\.\d+)?$/.test(value) || n > MAX_WAIT_SECONDS) {
    throw usageError(`--wait "${String(value)}" is not a number of seconds from 0 to ${MAX_WAIT_SECONDS}`);
  }
  return n;
}

type Action<A extends unknown[]> = (...args: A) => void | Promise<void>;

/**
 * Wraps a commander action so that it runs holding the lock, and gives it back when done. With
 * `parse`, the arguments and flags are read and checked first, before the lock is asked for: a
 * bad flag is a usage error (exit 2) naming the flag even while another labctl holds the lock,
 * never a 75 about the lock. What `parse` returns is handed to `action`.
 */
export function locked<A extends unknown[]>(mode: LockFor<A>, action: Action<A>): (...args: A) => Promise<void>;
export function locked<A extends unknown[], P>(mode: LockFor<A>, parse: (...args: A) => P | Promise<P>, action: (parsed: P) => void | Promise<void>): (...args: A) => Promise<void>;
export function locked<A extends unknown[], P>(mode: LockFor<A>, first: Action<A> | ((...args: A) => P | Promise<P>), second?: (parsed: P) => void | Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    // Commander passes the command itself last; its globals hold the root's --wait.
    const command = args[args.length - 1] as Command;
    const waitSeconds = parseWait(command.optsWithGlobals().wait);
    const parsed = second ? await first(...args) : undefined;
    const lock = await acquireLock(typeof mode === 'function' ? mode(...args) : mode, {
      waitSeconds,
      command: showCommand('labctl', process.argv.slice(2)),
    });
    try {
      if (second) await second(parsed as P);
      else await (first as Action<A>)(...args);
    } finally {
      lock?.release();
    }
  };
}
