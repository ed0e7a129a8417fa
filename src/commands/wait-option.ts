/** The root option `labctl --wait SECONDS <command>`, defined at startup and read by `locked`. */
import { usageError } from '../errors.js';

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
