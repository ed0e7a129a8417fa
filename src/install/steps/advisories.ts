/** The known advisories of the release about to be built: printed, and accepted by the user or --yes. */
import { EXIT, LabError } from '../../errors.js';
import { advisoriesFor, fixingRelease, formatAdvisory } from '../../source/advisories.js';
import { compareVersions } from '../../source/versions.js';
import type { Step } from '../../steps/types.js';
import { releaseOf, type InstallContext } from '../context.js';

export const advisories: Step<InstallContext> = {
  id: '1b-advisories',
  title: 'known advisories for this release',
  async check(ctx) {
    if (!ctx.release) return { done: false, detail: `list the chosen release's known advisories and ask${ctx.o.yes ? ' (answered by --yes)' : ''}` };
    return { done: advisoriesFor(ctx.release.version, { tls: 'openssl' }).length === 0, detail: 'none known' };
  },
  async apply(ctx) {
    const r = releaseOf(ctx);
    const list = advisoriesFor(r.version, { tls: 'openssl' });
    const fix = fixingRelease(list);
    for (const a of list) ctx.note(formatAdvisory(a));
    const newer = r.skipped.find((x) => fix && compareVersions(x.version, fix) >= 0);
    const fixNote = `fixed in ${fix}${newer ? ` (${newer.version} is offered but signed by the unpinned key ${newer.issuer})` : ''}`;
    if (!ctx.o.yes && !(await ctx.o.confirm(`Exim ${r.version} has ${list.length} known advisories, ${fixNote}. Build it anyway?`))) {
      throw new LabError(`not building Exim ${r.version}: ${list.length} known advisories (${fixNote})`, 'install a fixed release (--version, --trust), or rerun with --yes to accept them', EXIT.preflight);
    }
    return {
      status: 'ok',
      detail: `${list.length} accepted (${list.map((a) => a.id).join(', ')}); ${fixNote}`,
      evidence: [{ kind: 'text', label: `advisories that apply to Exim ${r.version}`, text: list.map((a) => formatAdvisory(a)).join('\n') }],
    };
  },
};
