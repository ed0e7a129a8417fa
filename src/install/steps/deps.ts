/** Exim's build dependencies, only those missing. */
import { aptInstall, installedPackages } from '../../system/apt.js';
import type { Step } from '../../steps/types.js';
import { buildPackages, type InstallContext } from '../context.js';

async function missing(ctx: InstallContext): Promise<string[]> {
  const wanted = buildPackages(ctx.o);
  const have = new Set(await installedPackages(wanted));
  return wanted.filter((p) => !have.has(p));
}

export const deps: Step<InstallContext> = {
  id: 'deps',
  title: 'build dependencies (apt)',
  async check(ctx) {
    const m = await missing(ctx);
    return m.length ? { done: false, detail: `apt-get install -y ${m.join(' ')}` } : { done: true, detail: buildPackages(ctx.o).join(' ') };
  },
  async apply(ctx) {
    const m = await missing(ctx);
    await aptInstall(m);
    return { detail: `installed ${m.join(' ')}`, evidence: [{ kind: 'command', label: 'apt', command: `apt-get install -y ${m.join(' ')}` }] };
  },
};
