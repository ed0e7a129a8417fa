import { planUninstall, uninstall, type UninstallResult } from '../../uninstall/index.js';
import { formatKept } from '../../uninstall/kept.js';
import { StepLines } from '../../ui/steps.js';
import { locked } from '../locked.js';

export interface UninstallFlags {
  dryRun?: boolean;
  json?: boolean;
}

/** `labctl uninstall`: the steps (or their plan) under the lock, then what is kept. */
export const uninstallAction = locked((f: UninstallFlags) => (f.dryRun ? 'shared' : 'exclusive'), async (flags: UninstallFlags) => {
  const lines = new StepLines(flags.dryRun ? 'check' : 'apply', !!flags.json);
  const steps = () => lines.records.map(({ id, title, status, detail, ms }) => ({ id, title, status, detail, ms: Math.round(ms) }));
  const show = (r: UninstallResult, extra: Record<string, unknown>) => {
    if (flags.json) console.log(JSON.stringify({ ...extra, steps: steps(), kept: r.kept, ...(r.queued !== undefined ? { queued: r.queued } : {}) }, null, 2));
    else console.log(formatKept(r.kept));
  };
  if (flags.dryRun) {
    show(await planUninstall(lines), { dryRun: true });
    return;
  }
  try {
    const r = await uninstall(lines);
    const changed = r.records.some((x) => x.status === 'changed');
    show(r, { ok: true, changed });
    if (!flags.json) console.log(changed ? "labctl's Exim is removed." : "Nothing to do: labctl's Exim is not installed.");
  } catch (err) {
    if (flags.json) console.log(JSON.stringify({ ok: false, error: err instanceof Error ? err.message : String(err), steps: steps() }, null, 2));
    throw err;
  }
});
