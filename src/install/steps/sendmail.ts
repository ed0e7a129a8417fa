/**
 * The sendmail interface: /usr/sbin/sendmail and /usr/lib/sendmail link to labctl's Exim, owned
 * by a local package that tells apt an MTA is installed (src/system/mta-package.ts). Pre-flight
 * already refused a /usr/sbin/sendmail of another MTA; a /usr/lib/sendmail that is something
 * else is left alone and named. mailx, cron's MAILTO and every program that sends through
 * sendmail then reach this Exim.
 */
import { LabError } from '../../errors.js';
import type { Step } from '../../steps/types.js';
import { installedMtaPackage, installMtaPackage, MTA_PACKAGE, mtaPackageFiles, mtaPackageVersion, pathPresent, SENDMAIL_LINKS } from '../../system/mta-package.js';
import { readLinkIfAny } from '../../system/files.js';
import type { InstallContext } from '../context.js';

/** The links the package may own: those absent, or already pointing at labctl's Exim. */
async function plan(ctx: InstallContext): Promise<{ links: string[]; foreign: string[]; version: string }> {
  const links: string[] = [];
  const foreign: string[] = [];
  for (const l of SENDMAIL_LINKS) {
    const present = await pathPresent(l);
    const target = await readLinkIfAny(l);
    if (!present || target === ctx.binary) links.push(l);
    else foreign.push(`${l}${target ? ` -> ${target}` : ''}`);
  }
  const version = mtaPackageVersion(ctx.release?.version ?? ctx.pending?.version ?? ctx.installedBefore ?? '0');
  return { links, foreign, version };
}

export const sendmail: Step<InstallContext> = {
  id: 'sendmail',
  title: 'sendmail links and apt (mail-transport-agent)',
  async check(ctx) {
    const p = await plan(ctx);
    const installed = await installedMtaPackage();
    const owned = await mtaPackageFiles();
    const done = installed === p.version && p.links.every((l) => owned.includes(l)) && (await Promise.all(p.links.map(readLinkIfAny))).every((t) => t === ctx.binary);
    const what = `${p.links.join(', ')} -> ${ctx.binary}, package ${MTA_PACKAGE} ${p.version} (Provides: mail-transport-agent)`;
    return { done, detail: done ? what : `dpkg-deb --build and dpkg -i: ${what}${p.foreign.length ? `; left alone: ${p.foreign.join(', ')}` : ''}` };
  },
  async apply(ctx) {
    const p = await plan(ctx);
    if (p.foreign.some((f) => f.startsWith('/usr/sbin/sendmail'))) {
      throw new LabError(`/usr/sbin/sendmail is not labctl's Exim (${p.foreign.join(', ')})`, 'remove the other MTA (labctl install --remove-existing), then run labctl install again');
    }
    const transcript = await installMtaPackage({ version: p.version, binary: ctx.binary, links: p.links });
    if (p.foreign.length) ctx.note(`left alone: ${p.foreign.join(', ')} (not labctl's, not owned by ${MTA_PACKAGE})`);
    return {
      detail: `${p.links.join(', ')} -> ${ctx.binary}; package ${MTA_PACKAGE} ${p.version} provides mail-transport-agent`,
      evidence: [{ kind: 'command', label: `${MTA_PACKAGE}: built and installed`, command: `dpkg-deb --build; dpkg -i ${MTA_PACKAGE}`, text: transcript }],
    };
  },
};
