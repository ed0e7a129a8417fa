/** 1a: root, apt, and no other MTA (removed only with --remove-existing, after asking). */
import { EXIT, LabError } from '../../errors.js';
import type { EvidenceItem } from '../../evidence/store.js';
import { aptRemove, isAptBased } from '../../system/apt.js';
import { scanForMta, type MtaScan } from '../../system/mta.js';
import type { Step } from '../../steps/types.js';
import type { InstallContext } from '../context.js';

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

function describe(scan: MtaScan): string {
  return [
    ...scan.packages.map((p) => `package ${p}`),
    ...(scan.sendmail && !scan.packages.includes(scan.sendmail.owner ?? '')
      ? [`/usr/sbin/sendmail${scan.sendmail.target === '/usr/sbin/sendmail' ? '' : ` -> ${scan.sendmail.target}`}${scan.sendmail.owner ? ` (package ${scan.sendmail.owner})` : ''}`]
      : []),
    ...(scan.listener ? [`${scan.listener.process} listening on port 25`] : []),
  ].join(', ');
}

/** What 1a asks to show: the MTA packages, /usr/sbin/sendmail and port 25, each with what was found. */
const scanEvidence = (scan: MtaScan): EvidenceItem[] => [{ kind: 'text', label: 'pre-installed MTA scan', text: scan.lines.join('\n') }];

const removable = (scan: MtaScan) => [...new Set([...scan.packages, ...(scan.sendmail?.owner ? [scan.sendmail.owner] : [])])];

export const preflight: Step<InstallContext> = {
  id: '1a-preflight',
  title: 'pre-flight: root, apt, other MTAs',
  async check(ctx) {
    const scan = await scanForMta(ctx.binary);
    if (!scan.found) return { done: isRoot() && (await isAptBased()), detail: 'no other MTA found', evidence: scanEvidence(scan) };
    return { done: false, detail: `found ${describe(scan)}${ctx.o.removeExisting ? `; would apt-get remove ${removable(scan).join(' ')}` : ''}` };
  },
  async apply(ctx) {
    if (!isRoot()) throw new LabError('labctl install must run as root', 'run it with sudo, or use --dry-run to see the plan', EXIT.preflight);
    if (!(await isAptBased())) throw new LabError('this machine has no apt-get/dpkg: labctl supports Debian and Ubuntu', undefined, EXIT.preflight);
    const scan = await scanForMta(ctx.binary);
    const evidence = scanEvidence(scan);
    if (!scan.found) return { status: 'ok', detail: 'no other MTA found', evidence };
    const what = describe(scan);
    const packages = removable(scan);
    if (!ctx.o.removeExisting) {
      throw new LabError(`another MTA is installed: ${what}`, `remove it first, or rerun with --remove-existing to apt-get remove ${scan.packages.join(' ') || 'it'}`, EXIT.preflight);
    }
    if (!packages.length) throw new LabError(`another MTA is running but no package provides it: ${what}`, 'stop and remove it by hand, then rerun', EXIT.preflight);
    if (!ctx.o.yes && !(await ctx.o.confirm(`Remove ${packages.join(', ')} with apt-get remove?`))) {
      throw new LabError(`not removing ${packages.join(', ')}`, 'labctl cannot install Exim beside another MTA', EXIT.preflight);
    }
    await aptRemove(packages);
    const after = await scanForMta(ctx.binary);
    if (after.found) throw new LabError(`still found after removal: ${after.lines.join('; ')}`, undefined, EXIT.preflight);
    evidence.push({ kind: 'command', label: 'removed', command: `apt-get remove -y ${packages.join(' ')}` });
    return { detail: `removed ${packages.join(', ')}`, evidence };
  },
};
