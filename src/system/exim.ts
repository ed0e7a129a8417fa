import { run, type RunResult } from './run.js';

/** What `exim -bV` says about a binary: version, compiled-in support, configuration path. */
export interface EximVersionInfo {
  version?: string;
  supportFor: string[];
  /** The "Authenticators:" line: the SMTP AUTH drivers built in (e.g. plaintext). */
  authenticators: string[];
  configurationFile?: string;
  raw: RunResult;
}

export function parseBv(stdout: string): Omit<EximVersionInfo, 'raw'> {
  const version = /^Exim version (\S+)/m.exec(stdout)?.[1];
  const support = /^Support for:(.*)$/m.exec(stdout)?.[1] ?? '';
  const auths = /^Authenticators:(.*)$/m.exec(stdout)?.[1] ?? '';
  const configurationFile = /^Configuration file(?: is| search path is) (\S+)/m.exec(stdout)?.[1];
  const words = (line: string) => line.trim().split(/\s+/).filter(Boolean);
  return { version, supportFor: words(support), authenticators: words(auths), configurationFile };
}

export async function eximVersion(binary: string, configureFile?: string): Promise<EximVersionInfo> {
  const args = configureFile ? ['-C', configureFile, '-bV'] : ['-bV'];
  const raw = await run(binary, args, { allowFailure: true, timeoutMs: 15000 });
  return { ...parseBv(raw.stdout), raw };
}
