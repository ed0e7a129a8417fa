import type { Command } from 'commander';
import { acquireLock, type LockMode } from '../system/lock.js';
import { showCommand } from '../system/run.js';
import { parseWait } from './wait-option.js';

/**
 * The lock in the command layer: a command that changes the machine registers its action as
 * `.action(locked('exclusive', fn))`, one that reads what they write as `locked('shared', fn)`.
 * A mode may depend on the command's arguments and flags (a dry run only reads).
 */
export type LockFor<A extends unknown[]> = LockMode | ((...args: A) => LockMode);

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
