/**
 * The local package install registered (src/system/mta-package.ts) removed with `dpkg -r`: apt
 * knows no MTA is installed again, and dpkg removes the sendmail links the package owns. A
 * /usr/sbin/sendmail or /usr/lib/sendmail that is not the package's is dpkg's to keep: never touched.
 */
import { MTA_PACKAGE, mtaPackagePresent, removeMtaPackage, SENDMAIL_LINKS } from '../../system/mta-package.js';
import type { Step } from '../../steps/types.js';
import type { UninstallContext } from '../context.js';

export const mtaPackage: Step<UninstallContext> = {
  id: 'mta-package',
  title: `package ${MTA_PACKAGE} (sendmail)`,
  async check() {
    const present = await mtaPackagePresent();
    if (!present) return { done: true, detail: `${MTA_PACKAGE} is not installed` };
    return { done: false, detail: `dpkg -r ${MTA_PACKAGE} ${present}: apt sees no mail-transport-agent; dpkg removes the links it owns (${SENDMAIL_LINKS.join(', ')})` };
  },
  async apply() {
    const transcript = await removeMtaPackage();
    if (await mtaPackagePresent()) throw new Error(`dpkg -r ${MTA_PACKAGE} left the package installed`);
    return {
      detail: `${MTA_PACKAGE} removed; apt sees no mail-transport-agent`,
      evidence: [{ kind: 'command', label: `${MTA_PACKAGE}: removed`, command: `dpkg -r ${MTA_PACKAGE}`, text: transcript }],
    };
  },
};
