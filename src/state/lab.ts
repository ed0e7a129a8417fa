/**
 * The lab's state.json: the topology `lab up` built, and when. Written by `lab up` only; read by
 * the other lab commands, verify's lab targets and the report. A missing file means the lab is
 * not up; a corrupt file or one from a newer labctl is an error that says so (src/state/file.ts),
 * never "not up". `lab down` does not need it: it finds what the lab made by its name prefix.
 */
import path from 'node:path';
import { paths } from '../paths.js';
import { loadState, saveState } from './file.js';

export interface LabMailHostSpec {
  /** Short name used on the command line and in namespace names: st14. */
  name: string;
  domain: string;
  /** Default mail.<domain>. */
  mailHost?: string;
  address: string;
  users: string[];
  /** Names of the other lab hosts this one is backup MX (preference 20) for; default all others. */
  backupFor?: string[];
}

export interface LabSpec {
  /** The lab's private /24: it exists only inside lab namespaces. */
  subnet: string;
  dnsAddress: string;
  /**
   * The lab's validating resolver (unbound, in the DNS server's namespace): the mail hosts and the
   * client ask it, it asks BIND and sets the AD bit on answers it validated (beyond the write-up).
   */
  resolverAddress: string;
  clientAddress: string;
  hosts: LabMailHostSpec[];
  /** Queue runner interval of every lab daemon (-q). */
  queueInterval: string;
  /**
   * Retry rule timing for the lab hosts. The first interval is short so that a host that comes
   * back is retried by the next queue run (every minute) instead of waiting a whole retry period;
   * see README "lab" for the arithmetic behind the 65 s goal.
   */
  retryRule: string;
}

/** What `lab up` wrote down for the other lab commands: the topology it built, and when. */
export interface LabState {
  spec: LabSpec;
  upAt: string;
  /** Per mail host: its mail host name and local users (the model's values). */
  hosts: Record<string, { mailHost: string; domain: string; users: string[]; postmaster: string; dkimSelector: string }>;
  caCertificate: string;
}

const SCHEMA = 1;
export const labStateFile = (labDir = paths.labDir) => path.join(labDir, 'state.json');

export const loadLabState = (labDir?: string) => loadState<LabState>(labStateFile(labDir), SCHEMA);
export const saveLabState = (s: LabState, labDir?: string) => saveState(labStateFile(labDir), SCHEMA, s);
