/** The known advisories of the release about to be built: printed, and accepted by the user or --yes. */
import { EXIT, LabError } from '../../errors.js';
import { advisoriesFor, fixingRelease, formatAdvisory } from '../../source/advisories.js';
import { compareVersions } from '../../source/versions.js';
import { unknownOutcome, type Step } from '../../steps/types.js';
import { releaseOf, type InstallContext } from '../context.js';

export const advisories: Step<InstallContext> = {
  id: '1b-advisories',
  title: 'known advisories for this release',
  async check(ctx) {
    const v = ctx.release?.version ?? ctx.pending?.version;
    if (!v) return unknownOutcome('the source step could not tell which release the run would install');
    const list = advisoriesFor(v, { tls: 'openssl' });
    if (!list.length) return { done: true, detail: 'none known' };
    // Accepting them changes nothing on the machine: a plan lists them; a real run asks (apply).
    const ids = `${list.length} known (${list.map((a) => a.id).join(', ')})`;
    return ctx.planning ? { done: true, detail: `${ids}: the run asks${ctx.o.yes ? ', answered by --yes' : ', or --yes accepts them'}` } : { done: false };
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
