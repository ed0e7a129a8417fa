/**
 * The daemon stopped and its unit gone. Under systemd: `systemctl disable --now` while the unit
 * file is there, the file removed, systemd reloaded (and a failed state reset), so systemd no
 * longer knows exim.service. Without systemd: the daemon labctl started is stopped through its
 * pid file, and the unit file install wrote anyway is removed.
 */
import { paths } from '../../paths.js';
import { exists, removePath } from '../../system/files.js';
import { run } from '../../system/run.js';
import { controlService, daemonStatus } from '../../state/service.js';
import { UNIT_NAME } from '../../system/service.js';
import type { Step } from '../../steps/types.js';
import type { UninstallContext } from '../context.js';

interface UnitState {
  LoadState: string;
  ActiveState: string;
  UnitFileState: string;
}

const ACTIVE = new Set(['active', 'activating', 'deactivating', 'reloading', 'refreshing']);

async function unitState(): Promise<UnitState> {
  const r = await run('systemctl', ['show', '-p', 'LoadState', '-p', 'ActiveState', '-p', 'UnitFileState', UNIT_NAME], { allowFailure: true });
  const v = Object.fromEntries(r.stdout.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return { LoadState: v.LoadState ?? '', ActiveState: v.ActiveState ?? '', UnitFileState: v.UnitFileState ?? '' };
}

/** What is left of the daemon and its unit, in words; empty when nothing is. */
async function leftovers(ctx: UninstallContext): Promise<string[]> {
  const left: string[] = [];
  if (await exists(paths.unitFile)) left.push(`unit file ${paths.unitFile}`);
  if (ctx.systemd) {
    const u = await unitState();
    if (ACTIVE.has(u.ActiveState)) left.push(`${UNIT_NAME} ${u.ActiveState}`);
    if (u.UnitFileState === 'enabled') left.push(`${UNIT_NAME} enabled`);
    if (u.LoadState && u.LoadState !== 'not-found') left.push(`systemd has ${UNIT_NAME} loaded (${u.LoadState})`);
  } else {
    const st = await daemonStatus();
    if (st.running) left.push(`daemon pid ${st.pid} (pid file)`);
  }
  return left;
}

export const service: Step<UninstallContext> = {
  id: 'service',
  title: 'daemon stopped, unit removed',
  async check(ctx) {
    const left = await leftovers(ctx);
    if (!left.length) return { done: true, detail: ctx.systemd ? `systemd knows no ${UNIT_NAME}, nothing runs it` : 'no daemon runs (pid file), no unit file' };
    const how = ctx.systemd ? `systemctl disable --now ${UNIT_NAME}; rm ${paths.unitFile}; systemctl daemon-reload` : `stop the daemon (pid file); rm ${paths.unitFile}`;
    return { done: false, detail: `${how} (now: ${left.join(', ')})` };
  },
  async apply(ctx) {
    const unitFile = await exists(paths.unitFile);
    if (ctx.systemd) {
      // disable needs the unit's file; once it is gone only a stop is left to do.
      if (unitFile) await run('systemctl', ['disable', '--now', UNIT_NAME]);
      else if (ACTIVE.has((await unitState()).ActiveState)) await run('systemctl', ['stop', UNIT_NAME]);
      await removePath(paths.unitFile);
      await run('systemctl', ['daemon-reload']);
      await run('systemctl', ['reset-failed', UNIT_NAME], { allowFailure: true });
    } else {
      await controlService('stop');
      await removePath(paths.unitFile);
    }
    const left = await leftovers(ctx);
    if (left.length) throw new Error(`still there after removal: ${left.join(', ')}`);
    return { detail: ctx.systemd ? `${UNIT_NAME} stopped, disabled, ${paths.unitFile} removed, systemd reloaded` : `daemon stopped (pid file), ${unitFile ? `${paths.unitFile} removed` : 'no unit file'}` };
  },
};
