/**
 * install.json: what `labctl install` built and installed. Written by the installer only; read by
 * configure (which binary and configure file), verify (Task 1's checks) and the report.
 */
import path from 'node:path';
import { paths } from '../paths.js';
import type { GpgvAgreement } from '../source/gpgv-agreement.js';
import type { SignatureRecord } from '../source/signature-error.js';
import { loadState, saveState } from './file.js';

export interface InstallState {
  version: string;
  /** A digest of everything the build depends on; equal keys mean nothing to rebuild. */
  inputsKey: string;
  tarballUrl: string;
  signature: SignatureRecord;
  /**
   * gpgv's good verdict on the release last verified, by the digests of what it read: a run on
   * exactly those files, keys and gpgv reuses it instead of running gpgv again.
   */
  gpgvAgreed?: GpgvAgreement;
  settings: { name: string; op: string; value: string }[];
  binary: string;
  configureFile: string;
  buildLog: string;
  installedAt: string;
  /** Where the source came from: official, mirror or debian. */
  origin?: string;
  /** Whether make ran through ccache (LABCTL_CCACHE=1), and the compiles the cache served; absent: it did not. Never part of inputsKey: it does not change what is built. */
  ccache?: { dir: string; hits?: number; misses?: number };
  /** The release this install replaced, if any (an upgrade or a downgrade). */
  previousVersion?: string;
  /**
   * Set before make install replaces the binary, cleared once the daemon greets running the new
   * one: a run interrupted in between (kill -9, a power cut) leaves it, and the rerun restarts the
   * daemon even when nothing else is to change.
   */
  restartPending?: RestartPending;
}

export interface RestartPending {
  /** The release and build whose binary is being installed, or was installed without a restart. */
  version: string;
  inputsKey: string;
  /** When the binary replacement started (ISO 8601). */
  since: string;
}

const SCHEMA = 1;
export const installStateFile = (stateDir = paths.stateDir) => path.join(stateDir, 'install.json');

/** A lab host's verify reads its own state directory; everything else the machine's. */
export const loadInstallState = (stateDir?: string) => loadState<InstallState>(installStateFile(stateDir), SCHEMA);
export const saveInstallState = (s: InstallState) => saveState(installStateFile(), SCHEMA, s);
