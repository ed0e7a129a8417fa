import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LabError } from '../errors.js';
import { EXIM_DEFAULTS } from '../paths.js';
import { exists } from './files.js';
import { waitForGreeting } from './smtp-probe.js';
import { alive, readPidFile, sleep, terminate, waitUntil } from './procs.js';
import { run } from './run.js';
import type { ServiceAction } from './service-actions.js';

/**
 * Starts, stops and reloads the Exim daemon the same way whether systemd is PID 1 (systemctl on
 * the unit labctl installed) or not (containers, our CI machines: the daemon is started directly
 * and tracked through its pid file). It runs the daemon with the settings it is given: their
 * file, service.json, and the unit's exim.env belong to src/state/service.ts, which callers go
 * through (controlService).
 */
export interface ServiceSettings {
  binary: string;
  /** The queue runner interval for -q, e.g. '30m' or '1m' in lab mode. */
  queueInterval: string;
  pidFile: string;
}

export type { ServiceAction };

export interface ServiceStatus {
  running: boolean;
  pid?: number;
  manager: 'systemd' | 'pidfile';
}

export async function systemdRunning(): Promise<boolean> {
  return exists('/run/systemd/system');
}

export const UNIT_NAME = 'exim.service';

export async function serviceStatus(settings: ServiceSettings): Promise<ServiceStatus> {
  if (await systemdRunning()) {
    const r = await run('systemctl', ['show', '-p', 'MainPID', '--value', UNIT_NAME], { allowFailure: true });
    const pid = Number.parseInt(r.stdout.trim(), 10);
    return { running: pid > 0, pid: pid > 0 ? pid : undefined, manager: 'systemd' };
  }
  const pid = await readPidFile(settings.pidFile);
  return pid && alive(pid) ? { running: true, pid, manager: 'pidfile' } : { running: false, manager: 'pidfile' };
}

async function startDirect(s: ServiceSettings): Promise<ServiceStatus> {
  const current = await serviceStatus(s);
  if (current.running) return current;
  await fs.mkdir(path.dirname(s.pidFile), { recursive: true });
  await fs.rm(s.pidFile, { force: true });
  // Without systemd, `exim -bd` detaches by itself and writes its pid to -oP.
  const r = await run(s.binary, ['-bd', `-q${s.queueInterval}`, '-oP', s.pidFile], { allowFailure: true, timeoutMs: 15000 });
  // A start that failed in the foreground (a configuration it cannot read) exits non-zero at once;
  // one that failed after detaching (port 25 taken) is seen by the wait.
  const started = r.exitCode === 0 && (await waitUntil(async () => (await serviceStatus(s)).running, 5000));
  if (!started) {
    const why = (r.stderr || r.stdout).trim() || 'no pid file written';
    throw new LabError(`the Exim daemon did not start: ${why}`, `see ${EXIM_DEFAULTS.spoolDirectory}/log/paniclog and mainlog`);
  }
  return serviceStatus(s);
}

async function stopDirect(s: ServiceSettings): Promise<ServiceStatus> {
  const pid = await readPidFile(s.pidFile);
  if (pid) await terminate([pid], 5000);
  await fs.rm(s.pidFile, { force: true });
  return { running: false, manager: 'pidfile' };
}

/**
 * Reload: SIGHUP makes Exim re-exec itself with the new configuration under the same pid.
 * A HUP with a broken configuration kills the daemon, so callers check the file first; this
 * function confirms the daemon is still there afterwards and throws if not.
 */
async function reloadDirect(s: ServiceSettings): Promise<ServiceStatus> {
  const before = await serviceStatus(s);
  if (!before.running || !before.pid) return startDirect(s);
  process.kill(before.pid, 'SIGHUP');
  // The daemon re-execs itself under the same pid; a configuration it cannot use kills it only
  // after that, so wait until it greets again on port 25 (or is gone).
  await sleep(300);
  const greeting = await waitForGreeting('127.0.0.1', 25, 5000);
  const after = await serviceStatus(s);
  if (!after.running || !greeting) throw new LabError('the Exim daemon exited after reload (SIGHUP)', `check the configuration with exim -bV and ${EXIM_DEFAULTS.spoolDirectory}/log/paniclog`);
  return after;
}

export async function serviceControl(action: ServiceAction, settings: ServiceSettings): Promise<ServiceStatus> {
  if (await systemdRunning()) {
    if (action !== 'status') await run('systemctl', [action, UNIT_NAME]);
    if (action === 'reload') {
      // systemctl returns once the unit's ExecReload has sent SIGHUP; as without systemd, the
      // daemon re-execs itself and a configuration it cannot use kills it only then.
      await sleep(300);
      const greeting = await waitForGreeting('127.0.0.1', 25, 5000);
      const st = await serviceStatus(settings);
      if (!st.running || !greeting) throw new LabError('the Exim daemon exited after reload', `see journalctl -u ${UNIT_NAME} and ${EXIM_DEFAULTS.spoolDirectory}/log/paniclog`);
    }
    return serviceStatus(settings);
  }
  switch (action) {
    case 'start':
      return startDirect(settings);
    case 'stop':
      return stopDirect(settings);
    case 'restart':
      await stopDirect(settings);
      return startDirect(settings);
    case 'reload':
      return reloadDirect(settings);
    case 'status':
      return serviceStatus(settings);
  }
}
