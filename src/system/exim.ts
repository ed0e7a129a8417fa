import { run, type RunResult } from './run.js';

/** What `exim -bV` says about a binary: version, compiled-in support, configuration path. */
export interface EximVersionInfo {
  version?: string;
  supportFor: string[];
  configurationFile?: string;
  raw: RunResult;
}

export function parseBv(stdout: string): Omit<EximVersionInfo, 'raw'> {
  const version = /^Exim version (\S+)/m.exec(stdout)?.[1];
  const support = /^Support for:(.*)$/m.exec(stdout)?.[1] ?? '';
  const configurationFile = /^Configuration file(?: is| search path is) (\S+)/m.exec(stdout)?.[1];
  return { version, supportFor: support.trim().split(/\s+/).filter(Boolean), configurationFile };
}

export async function eximVersion(binary: string, configureFile?: string): Promise<EximVersionInfo> {
  const args = configureFile ? ['-C', configureFile, '-bV'] : ['-bV'];
  const raw = await run(binary, args, { allowFailure: true, timeoutMs: 15000 });
  return { ...parseBv(raw.stdout), raw };
}
