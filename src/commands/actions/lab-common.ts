/** What the lab's actions and its drills' share: the lab's state, and their whole-number flags. */
import { LabError, usageError } from '../../errors.js';
import { loadState } from '../../lab/state.js';

export async function requireState() {
  const state = await loadState();
  if (!state) throw new LabError('the lab is not up', 'run labctl lab up first');
  return state;
}

export function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100000) throw usageError(`${flag}: "${value}" is not a whole number from 1 to 100000`);
  return n;
}
