/**
 * The sendmail interface of a source-built Exim, told to dpkg and apt: a small local Debian
 * package (built with `dpkg-deb --build` from a DEBIAN/control) that `Provides:
 * mail-transport-agent` and owns the `/usr/sbin/sendmail` and `/usr/lib/sendmail` links to
 * labctl's Exim. dpkg then records the links (`dpkg -L`), removes them with the package, and
 * refuses to let another package take them over silently; apt sees an MTA, so `apt-get install
 * bsd-mailx` (Depends: default-mta | mail-transport-agent) no longer pulls in exim4-daemon-light.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { installedPackageFiles, packageStates } from './dpkg-status.js';
import { makeTempDir, removePath, writeAtomic } from './files.js';
import { run } from './run.js';

export const MTA_PACKAGE = 'labctl-exim';
export const SENDMAIL_LINKS = ['/usr/sbin/sendmail', '/usr/lib/sendmail'] as const;

export interface MtaPackageSpec {
  /** The Debian version: Exim's release with a labctl suffix, e.g. 4.98.2-labctl1. */
  version: string;
  /** The binary the links point at (labctl's `exim` in BIN_DIRECTORY). */
  binary: string;
  /** The links the package owns (those no other package or file holds). */
  links: readonly string[];
}

export const mtaPackageVersion = (eximVersion: string) => `${eximVersion}-labctl1`;

export function controlFile(spec: MtaPackageSpec): string {
  return [
    `Package: ${MTA_PACKAGE}`,
    `Version: ${spec.version}`,
    'Architecture: all',
    'Maintainer: labctl <root@localhost>',
    'Section: mail',
    'Priority: optional',
    // Like Debian's own MTAs: one mail-transport-agent at a time.
    'Provides: mail-transport-agent',
    'Conflicts: mail-transport-agent',
    'Replaces: mail-transport-agent',
    `Description: Exim built from source by labctl (${spec.binary})`,
    ' Registers the Exim that labctl install built as the mail transport agent, so apt',
    ' installs no other one for programs that need one (mailx, cron), and owns the',
    ` sendmail links (${spec.links.join(', ') || 'none'}) to ${spec.binary}.`,
    '',
  ].join('\n');
}

/** The installed version of labctl's package, or undefined. */
export async function installedMtaPackage(): Promise<string | undefined> {
  const st = (await packageStates()).get(MTA_PACKAGE);
  return st?.status.startsWith('ii') ? st.version : undefined;
}

/** The files dpkg says the package owns: its list, read as dpkg-query -L reads it, else dpkg-query -L. */
export async function mtaPackageFiles(): Promise<string[]> {
  const listed = await installedPackageFiles(MTA_PACKAGE);
  if (listed) return listed;
  const r = await run('dpkg-query', ['-L', MTA_PACKAGE], { allowFailure: true });
  return r.exitCode === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

/** Builds the package and installs it with dpkg; returns the commands' transcript. */
export async function installMtaPackage(spec: MtaPackageSpec): Promise<string> {
  const dir = await makeTempDir('labctl-mta-');
  try {
    const root = path.join(dir, 'root');
    await writeAtomic(path.join(root, 'DEBIAN/control'), controlFile(spec));
    for (const link of spec.links) {
      await fs.mkdir(path.join(root, path.dirname(link)), { recursive: true });
      await fs.symlink(spec.binary, path.join(root, link));
    }
    const deb = path.join(dir, `${MTA_PACKAGE}_${spec.version}_all.deb`);
    const build = await run('dpkg-deb', ['--root-owner-group', '--build', root, deb]);
    const install = await run('dpkg', ['-i', deb], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
    return [`$ ${build.command}`, build.stdout, `$ ${install.command}`, install.stdout].filter(Boolean).join('\n').trim();
  } finally {
    await removePath(dir);
  }
}

/** Whether a path exists at all (a dangling link counts). */
export async function pathPresent(p: string): Promise<boolean> {
  return fs.lstat(p).then(() => true, () => false);
}

/**
 * Whether dpkg knows the package as installed in any way (`ii`, or half-installed, unpacked,
 * half-configured...): anything but not-installed (`un`, `pn`) or config-files only (`rc`; the
 * package has no conffiles, so nothing of it is left then).
 */
export async function mtaPackagePresent(): Promise<string | undefined> {
  const r = await run('dpkg-query', ['-W', '-f', '${db:Status-Abbrev}\\t${Version}', MTA_PACKAGE], { allowFailure: true });
  const [status = '', version = ''] = r.stdout.split('\t');
  if (r.exitCode !== 0 || /^[up]/.test(status) || status.startsWith('rc')) return undefined;
  return `${version.trim()} (${status.trim()})`;
}

/** What dpkg would refuse about removing the package (another package depends on it), or undefined: `dpkg --no-act -r`. */
export async function mtaPackageRemovalRefusal(): Promise<string | undefined> {
  const r = await run('dpkg', ['--no-act', '-r', MTA_PACKAGE], { allowFailure: true });
  if (r.exitCode === 0) return undefined;
  return dpkgRefusal(r.stderr || r.stdout);
}

/**
 * dpkg's refusal in one line: its lines that name what depends on the package
 * (" bsd-mailx depends on default-mta | mail-transport-agent; however:"), without the "however"
 * details under them; else its first line.
 */
export function dpkgRefusal(output: string): string {
  const lines = output.split('\n');
  const reasons = lines.map((l) => /^ (\S+ (?:pre-)?depends on .*?)(?:; however:)?$/.exec(l)?.[1]).filter((r): r is string => !!r);
  return reasons.length ? reasons.join('; ') : (lines.find((l) => l.trim()) ?? 'dpkg refused').trim();
}

/** The packages a refusal names as depending on the package. */
export const dependentsIn = (refusal: string) => [...refusal.matchAll(/(?:^|; )(\S+) (?:pre-)?depends on /g)].map((m) => m[1]!.replace(/:[a-z0-9]+$/, ''));

/** `dpkg -r`: the package goes, and with it the sendmail links it owns (dpkg removes only files it owns). */
export async function removeMtaPackage(): Promise<string> {
  const r = await run('dpkg', ['-r', MTA_PACKAGE], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
  return [`$ ${r.command}`, r.stdout, r.stderr].filter(Boolean).join('\n').trim();
}
