/**
 * The configure file itself: rendered from the model, checked by Exim (-bV, -bt) as a candidate,
 * swapped in with a backup kept, and the daemon reloaded (or restarted for a new -q interval);
 * a daemon that dies on the new file gets the old one back. configure.json carries a
 * "reload pending" mark from before the swap until the daemon greets on the new file, so a run
 * interrupted in between reloads on the rerun even though the bytes are already in place. The
 * mark (and with it the new model) is written only once Exim accepted the candidate, and a swap
 * that is rolled back puts the previous configure.json back: the state file never describes a
 * configuration that was refused.
 */
import { loadConfigureState, saveConfigureState, restoreConfigureState, type ConfigureState } from '../state.js';
import { readIfExists } from '../../system/files.js';
import { controlService } from '../../state/service.js';
import { serviceStatus } from '../../system/service.js';
import type { EvidenceItem } from '../../evidence/types.js';
import type { Step } from '../../steps/types.js';
import { unifiedDiff } from '../../ui/diff.js';
import { confirmDaemonServing, testAddresses } from '../acceptance.js';
import { configureKeyParts } from '../render.js';
import { safeInstallConfigure, type SafeInstallResult } from '../swap.js';
import type { ConfigureContext } from './context.js';
import { crashPointForTests } from '../../system/test-hooks.js';

const checked = (c: ConfigureContext) => `${c.o.configureFile} checked with -bV and -bt ${testAddresses(c.o.model).join(', ')}`;

async function markReload(c: ConfigureContext, pending: boolean): Promise<void> {
  const state = await loadConfigureState().catch(() => undefined);
  await saveConfigureState({ model: c.o.model, configureFile: c.o.configureFile, at: state?.at ?? new Date().toISOString(), ...(pending ? { reloadPending: true } : {}) });
}

/** What the report shows for Task 2: the key parts of the file, the model, and Exim's own checks of it. */
function evidence(c: ConfigureContext, install: SafeInstallResult): EvidenceItem[] {
  return [
    { kind: 'text', label: 'key parts of the rendered configuration', text: configureKeyParts(c.rendered) },
    { kind: 'data', label: 'lab model', data: c.o.model },
    ...install.checks.map((x): EvidenceItem => ({ kind: 'command', label: 'syntax check', command: x.command, exitCode: x.exitCode, text: x.output })),
    ...install.routes.map((r): EvidenceItem => ({ kind: 'command', label: `route ${r.address}`, command: r.command, exitCode: r.exitCode, text: r.output })),
  ];
}

export const configureFile: Step<ConfigureContext> = {
  id: 'configure',
  title: 'Exim configuration',
  async check(c) {
    const installed = await readIfExists(c.o.configureFile).catch(() => undefined);
    const diff = unifiedDiff(installed ?? '', c.rendered, { before: `${c.o.configureFile} (installed)`, after: `${c.o.configureFile} (rendered)` });
    if (diff === '' && !c.reloadPending) return { done: true, detail: `${c.o.configureFile}: already as rendered` };
    if (diff === '') return { done: false, detail: `${c.o.configureFile} is in place, but an interrupted run never reloaded the daemon on it: reload`, diff };
    return { done: false, detail: `check with ${c.o.eximBinary} -C <new> -bV and -bt ${testAddresses(c.o.model).join(', ')}, keep a .bak, install, reload the daemon`, diff };
  },
  async apply(c) {
    const running = (await serviceStatus(c.saved)).running;
    const reload = async () => {
      // Tests stand in for a crash here (kill -9 after the swap, before the HUP) with this hook.
      crashPointForTests('kill-before-reload');
      c.daemonHandled = true;
      const live = (await serviceStatus(c.saved)).running;
      // A new -q interval needs a new daemon; otherwise a HUP re-reads the configuration.
      await controlService(c.intervalChanged && live ? 'restart' : live ? 'reload' : 'start', c.wanted);
      await confirmDaemonServing();
    };
    const previous: ConfigureState | undefined = await loadConfigureState().catch(() => undefined);
    let marked = false;
    try {
      c.install = await safeInstallConfigure({
        text: c.rendered,
        target: c.o.configureFile,
        eximBinary: c.o.eximBinary,
        testAddresses: testAddresses(c.o.model),
        beforeSwap: async () => {
          await markReload(c, true);
          marked = true;
        },
        reload,
        restart: async () => {
          await controlService('restart', c.saved);
        },
      });
    } catch (err) {
      // The previous file is back in place (or was never replaced): so is the state describing it.
      if (marked) await restoreConfigureState(previous);
      throw err;
    }
    // Identical bytes after an interrupted run: the daemon still has to read them.
    if (!c.install.changed && c.reloadPending && running) await reload();
    await markReload(c, false);
    if (!c.install.changed && !c.reloadPending) return { status: 'ok', detail: checked(c), evidence: evidence(c, c.install) };
    const detail = c.install.changed ? `${checked(c)}; previous kept as ${c.install.backup ?? '(none)'}` : `${checked(c)}; reloaded after an interrupted run`;
    return { detail, evidence: evidence(c, c.install) };
  },
};
