/** Exim's build dependencies, only those missing. */
import { aptInstall, installedPackages } from '../../system/apt.js';
import type { EvidenceItem } from '../../evidence/types.js';
import type { Step } from '../../steps/types.js';
import { buildPackages, type InstallContext } from '../context.js';

async function missing(ctx: InstallContext): Promise<string[]> {
  const wanted = buildPackages(ctx.o);
  const have = new Set(await installedPackages(wanted));
  return wanted.filter((p) => !have.has(p));
}

/** The packages the build needs, each as dpkg found it. */
const found = (ctx: InstallContext, m: string[]): EvidenceItem[] => [{ kind: 'text', label: 'build dependencies (dpkg-query)', text: buildPackages(ctx.o).map((p) => `${p}: ${m.includes(p) ? 'missing' : 'installed'}`).join('\n') }];

export const deps: Step<InstallContext> = {
  id: 'deps',
  title: 'build dependencies (apt)',
  async check(ctx) {
    const m = await missing(ctx);
    return m.length ? { done: false, detail: `apt-get install -y ${m.join(' ')}` } : { done: true, detail: `all installed: ${buildPackages(ctx.o).join(' ')}`, evidence: found(ctx, m) };
  },
  async apply(ctx) {
    const m = await missing(ctx);
    await aptInstall(m);
    return { detail: `installed ${m.join(' ')}`, evidence: [...found(ctx, m), { kind: 'command', label: 'apt', command: `apt-get install -y ${m.join(' ')}` }] };
  },
};
