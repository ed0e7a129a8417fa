import { promises as fs } from 'node:fs';
import path from 'node:path';
import { installedPackages, packageOwning } from './apt.js';
import { tcpListeners } from './listeners.js';

/** Debian packages that provide a mail transfer agent (write-up 1a). */
export const MTA_PACKAGES = ['exim4*', 'postfix', 'sendmail*', 'opensmtpd', 'nullmailer', 'msmtp-mta'];

export interface ForeignMta {
  /** Debian packages found installed. */
  packages: string[];
  /** /usr/sbin/sendmail when it is not labctl's Exim, with the package owning it if any. */
  sendmail?: { target: string; owner?: string };
  /** A listener on port 25 that is not labctl's Exim. */
  listener?: { process: string; pid?: number; exe?: string };
}

export interface MtaScan extends ForeignMta {
  found: boolean;
  /** Human lines for the report: what was looked at and what was found. */
  lines: string[];
}

/** Looks for another MTA; `ourBinary` (labctl's exim) is not counted. */
export async function scanForMta(ourBinary: string): Promise<MtaScan> {
  // make install points exim at a versioned binary (exim-4.96-2); an older one may still run.
  const binDir = path.dirname(await fs.realpath(ourBinary).catch(() => ourBinary));
  const isOurs = (p: string | undefined) => !!p && path.dirname(p) === binDir && path.basename(p).startsWith('exim');
  const result: ForeignMta = { packages: await installedPackages(MTA_PACKAGES) };
  const lines = [`packages (${MTA_PACKAGES.join(', ')}): ${result.packages.join(', ') || 'none installed'}`];

  const target = await fs.realpath('/usr/sbin/sendmail').catch(() => undefined);
  if (target && !isOurs(target)) {
    result.sendmail = { target, owner: await packageOwning('/usr/sbin/sendmail') };
    lines.push(`/usr/sbin/sendmail: ${target}${result.sendmail.owner ? ` (package ${result.sendmail.owner})` : ''}`);
  } else lines.push(`/usr/sbin/sendmail: ${target ? `labctl's exim` : 'absent'}`);

  // Every listener on port 25 (as `ss -ltnp sport = :25` lists them, read from /proc): one held
  // by labctl's exim is ours; any other is named by its first holder.
  const listeners = tcpListeners(25, isOurs);
  for (const l of listeners) {
    if (l.holders.some((h) => isOurs(h.exe))) continue;
    const h = l.holders[0];
    result.listener = { process: h?.comm ?? 'unknown process', pid: h?.pid, exe: h?.exe };
  }
  lines.push(`port 25: ${result.listener ? `${result.listener.process}${result.listener.pid ? ` (pid ${result.listener.pid})` : ''}` : listeners.length ? `labctl's exim` : 'nothing listening'}`);
  return { ...result, found: !!(result.packages.length || result.sendmail || result.listener), lines };
}
