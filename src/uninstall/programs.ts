/**
 * Which files of a BIN_DIRECTORY `make install` put there, by name: Exim's scripts/exim_install
 * installs the versioned binary exim-<version>-<n> with the `exim` link to it, and its
 * utilities (EXIM_UTILITIES in paths.ts: 4.98's; 4.96 has all but the last two; eximon only with the monitor
 * built), and keeps a replaced utility as <name>.O. Anything else in the directory is not
 * labctl's and is left alone.
 */
import { EXIM_UTILITIES } from '../paths.js';

const UTILITIES = new Set<string>(['eximon', 'eximon.bin', ...EXIM_UTILITIES]);
const VERSIONED_BINARY = /^exim-\d+\.\d+[\w.]*-\d+$/;

export function isMakeInstallProgram(name: string): boolean {
  if (name === 'exim' || VERSIONED_BINARY.test(name)) return true;
  const base = name.endsWith('.O') ? name.slice(0, -2) : name;
  return UTILITIES.has(base);
}

/** A directory's names split into make install's programs (removed) and the rest (left alone), each sorted. */
export function splitPrograms(names: readonly string[]): { programs: string[]; others: string[] } {
  const sorted = [...names].sort();
  return { programs: sorted.filter(isMakeInstallProgram), others: sorted.filter((n) => !isMakeInstallProgram(n)) };
}
