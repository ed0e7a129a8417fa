/** What kind of machine this is: its OS release and architecture. */
import { readIfExists } from './files.js';

/** /etc/os-release as key-value pairs (quotes removed); empty when the file is missing. */
export async function osRelease(): Promise<Record<string, string>> {
  const text = (await readIfExists('/etc/os-release')) ?? '';
  const fields: Record<string, string> = {};
  for (const m of text.matchAll(/^([A-Z_]+)=("?)([^"\n]*)\2$/gm)) fields[m[1]!] = m[3]!;
  return fields;
}

export interface MachineKind {
  /** Node's platform and architecture, e.g. linux-x64. */
  arch: string;
  /** ID and VERSION_ID of /etc/os-release, e.g. debian 12. */
  os: string;
}

export async function machineKind(): Promise<MachineKind> {
  const r = await osRelease();
  return { arch: `${process.platform}-${process.arch}`, os: `${r.ID ?? '?'} ${r.VERSION_ID ?? '?'}` };
}
