/**
 * configure.json: the model `labctl configure` installed, and where. Written by configure only;
 * read by verify (which host to check, and how) and the report. No secrets: paths only.
 */
import path from 'node:path';
import type { HostModel } from './model.js';
import { paths } from '../paths.js';
import { removePath } from '../system/files.js';
import { loadState, saveState } from '../state/file.js';

export interface ConfigureState {
  model: HostModel;
  configureFile: string;
  at: string;
  /**
   * Set before the new configure file replaces the old one, cleared once the daemon greets on
   * it: a run interrupted in between finds it and reloads even when the file is already in place.
   */
  reloadPending?: boolean;
}

const SCHEMA = 1;
export const configureStateFile = (stateDir = paths.stateDir) => path.join(stateDir, 'configure.json');

export const loadConfigureState = (stateDir?: string) => loadState<ConfigureState>(configureStateFile(stateDir), SCHEMA);
export const saveConfigureState = (s: ConfigureState, stateDir?: string) => saveState(configureStateFile(stateDir), SCHEMA, s);

/** Puts back the state read before a run (none: no file), after the run's change was rolled back. */
export async function restoreConfigureState(previous: ConfigureState | undefined, stateDir?: string): Promise<void> {
  if (previous) await saveConfigureState(previous, stateDir);
  else await removePath(configureStateFile(stateDir));
}
