/**
 * The systemd unit (templates/exim.service.ejs) and the daemon: under systemd, daemon-reload and
 * enable; without it (containers, CI), the daemon is started directly. A rebuilt binary or a new
 * queue interval restarts the daemon. Ends with Exim greeting on port 25.
 */
import path from 'node:path';
import { LabError } from '../../errors.js';
import type { EvidenceItem } from '../../evidence/store.js';
import { EXIM_DEFAULTS, PORTS, paths } from '../../paths.js';
import { readIfExists, writeIfChanged } from '../../system/files.js';
import { runsBinary } from '../../system/procs.js';
import { run } from '../../system/run.js';
import { controlService, DEFAULT_SERVICE, eximEnvFile, loadServiceSettings, saveServiceSettings, type ServiceSettings } from '../../state/service.js';
import { systemdRunning, UNIT_NAME } from '../../system/service.js';
import { waitForGreeting } from '../../system/smtp-probe.js';
import { unknownOutcome, type Step } from '../../steps/types.js';
import { renderUnit } from '../service-unit.js';
import { isUpToDate, withoutRelease, type InstallContext } from '../context.js';
import { crashPointForTests } from '../../system/test-hooks.js';

const unitText = (ctx: InstallContext) =>
  renderUnit({ binary: ctx.binary, queueInterval: DEFAULT_SERVICE.queueInterval, envFile: eximEnvFile(), configureFile: ctx.o.configureFile, spoolDirectory: EXIM_DEFAULTS.spoolDirectory });

async function wanted(ctx: InstallContext): Promise<{ saved: ServiceSettings; service: ServiceSettings }> {
  const saved = await loadServiceSettings();
  return { saved, service: { ...saved, binary: ctx.binary, queueInterval: ctx.o.queueInterval ?? saved.queueInterval } };
}

/**
 * The daemon runs the installed binary: its greeting names the release (when the banner says
 * one) and its process runs the file the binary path names now, not one make install replaced.
 */
async function confirmNewBinary(ctx: InstallContext, pid: number | undefined, banner: string): Promise<void> {
  const version = ctx.release?.version;
  const greeted = /\bExim (\d[\w.]*)/.exec(banner)?.[1];
  if (version && greeted && greeted !== version) throw new LabError(`the daemon greets as Exim ${greeted}, not the installed ${version}: ${banner}`, 'run labctl service restart');
  if (pid && !(await runsBinary(pid, ctx.binary))) throw new LabError(`the daemon (pid ${pid}) still runs the binary make install replaced, not ${ctx.binary}`, 'labctl service restart starts it on the installed binary');
}

export const service: Step<InstallContext> = {
  id: 'service',
  title: 'service unit and daemon',
  async check(ctx) {
    const { saved, service: s } = await wanted(ctx);
    const unitSame = (await readIfExists(paths.unitFile)) === (await unitText(ctx));
    const status = await controlService('status', s);
    const rest = unitSame && status.running && !ctx.restartPending && saved.queueInterval === s.queueInterval;
    // A plan that could not resolve the release cannot tell whether the daemon is restarted for a rebuilt binary.
    const build = ctx.release ? undefined : withoutRelease(ctx);
    if (rest && build?.unknown) return unknownOutcome(`pid ${status.pid} via ${status.manager}; restarted if the binary is rebuilt, which the plan cannot tell`);
    const rebuilt = ctx.release ? !(await isUpToDate(ctx)) : true;
    const done = rest && !rebuilt;
    if (done) return { done, detail: `pid ${status.pid} via ${status.manager}` };
    if (ctx.restartPending && !rebuilt) return { done, detail: `restart: a run stopped after make install of Exim ${ctx.restartPending.version} (${ctx.restartPending.since}) and never restarted the daemon` };
    const start = (await systemdRunning()) ? `systemctl daemon-reload; systemctl enable ${UNIT_NAME}; start or restart` : `start ${ctx.binary} -bd -q${s.queueInterval} directly (no systemd here)`;
    return { done, detail: `write ${paths.unitFile} (${eximEnvFile()}: QUEUE_INTERVAL=${s.queueInterval}); ${start}` };
  },
  async apply(ctx) {
    const { saved, service: s } = await wanted(ctx);
    const unit = await unitText(ctx);
    const unitChanged = await writeIfChanged(paths.unitFile, unit);
    const analyze = await run('systemd-analyze', ['verify', paths.unitFile], { allowFailure: true });
    const evidence: EvidenceItem[] = [
      { kind: 'file', label: paths.unitFile, text: unit },
      { kind: 'command', label: 'systemd-analyze verify', command: analyze.command, exitCode: analyze.exitCode, text: (analyze.stdout + analyze.stderr).trim() || '(no complaints)' },
    ];
    const complaints = `${analyze.stdout}\n${analyze.stderr}`.split('\n').filter((l) => l.includes(path.basename(paths.unitFile)));
    if (complaints.length) throw new LabError(`systemd-analyze verify rejects ${paths.unitFile}: ${complaints[0]}`);
    const intervalChanged = saved.queueInterval !== s.queueInterval;
    await saveServiceSettings(s);
    let before = await controlService('status', s);
    if (await systemdRunning()) {
      if (unitChanged) await run('systemctl', ['daemon-reload']);
      await run('systemctl', ['enable', UNIT_NAME]);
    } else if (!before.running) ctx.note('systemd is not running (container?): the unit is installed; starting the daemon directly');
    // A rebuilt binary must be restarted to take effect; -bV checked it in the step before. So
    // must one that an interrupted run installed (install.json still marks the restart pending).
    const rebuilt = !(await isUpToDate(ctx));
    const pending = !!ctx.restartPending;
    // Tests stand in for a crash here (kill -9 after make install, before the restart) with this hook.
    crashPointForTests('kill-before-restart');
    if (before.running && (rebuilt || pending || intervalChanged)) before = await controlService('restart', s);
    const st = before.running ? before : await controlService('start', s);
    const banner = await waitForGreeting('127.0.0.1', PORTS.smtp, 5000);
    if (!banner?.includes('Exim')) throw new LabError(`nothing answers on port ${PORTS.smtp} with an Exim banner (${banner ?? 'no answer'})`, `see ${EXIM_DEFAULTS.spoolDirectory}/log/mainlog and paniclog`);
    await confirmNewBinary(ctx, st.pid, banner);
    evidence.push({ kind: 'text', label: 'port 25 greeting', text: banner });
    const changed = unitChanged || !before.running || rebuilt || pending || intervalChanged;
    return { status: changed ? 'changed' : 'ok', detail: `pid ${st.pid} via ${st.manager}; port ${PORTS.smtp}: ${banner}`, evidence };
  },
};
