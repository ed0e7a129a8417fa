import { readJson, writeJson } from '../system/files.js';
import { labPaths, type LabSpec } from './topology.js';

/** What `lab up` wrote down for the other lab commands: the topology it built, and when. */
export interface LabState {
  spec: LabSpec;
  upAt: string;
  /** Per mail host: its mail host name and local users (the model's values). */
  hosts: Record<string, { mailHost: string; domain: string; users: string[]; postmaster: string; dkimSelector: string }>;
  caCertificate: string;
}

export const loadState = () => readJson<LabState>(labPaths.state).catch(() => undefined);
export const saveState = (s: LabState) => writeJson(labPaths.state, s);
