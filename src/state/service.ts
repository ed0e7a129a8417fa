/**
 * service.json and exim.env: how this machine's Exim daemon is run (binary, queue interval, pid
 * file). This module owns both files and is the only code that names their paths.
 * - service.json is the record, with a schema version (src/state/file.ts). Written by install's
 *   service step and configure's daemon step; read by every command that starts, stops or looks
 *   at the daemon. A missing file means the defaults; a corrupt or newer one is an error.
 * - exim.env is output only: QUEUE_INTERVAL for the systemd unit (EnvironmentFile=), rendered from
 *   the same settings whenever service.json is saved and before every systemd start or restart.
 *   labctl never reads it back.
 * src/system/service.ts runs the daemon with the settings it is given; `controlService` is how
 * the commands above it start, stop and look at the daemon with these settings.
 */
import path from 'node:path';
import { EXIM_DEFAULTS, paths } from '../paths.js';
import { writeAtomic } from '../system/files.js';
import { serviceControl, systemdRunning, UNIT_NAME, type ServiceAction, type ServiceSettings, type ServiceStatus } from '../system/service.js';
import { loadState, saveState } from './file.js';

export type { ServiceSettings };

const SCHEMA = 1;
export const serviceSettingsFile = (stateDir = paths.stateDir) => path.join(stateDir, 'service.json');
/** The environment file the systemd unit reads (QUEUE_INTERVAL), so both managers use one setting. */
export const eximEnvFile = (stateDir = paths.stateDir) => path.join(stateDir, 'exim.env');

export const DEFAULT_SERVICE: ServiceSettings = {
  binary: `${EXIM_DEFAULTS.binDirectory}/exim`,
  queueInterval: '30m',
  pidFile: '/run/exim.pid',
};

/** The saved settings over the defaults (a file an older labctl wrote may lack a field). */
export async function loadServiceSettings(): Promise<ServiceSettings> {
  return { ...DEFAULT_SERVICE, ...((await loadState<Partial<ServiceSettings>>(serviceSettingsFile(), SCHEMA)) ?? {}) };
}

export async function saveServiceSettings(s: ServiceSettings): Promise<void> {
  await saveState(serviceSettingsFile(), SCHEMA, s);
  await writeEximEnv(s);
}

export const eximEnvText = (s: ServiceSettings) =>
  `# Written by labctl from service.json (labctl install --queue-interval, labctl configure); read by ${UNIT_NAME}, never by labctl\nQUEUE_INTERVAL=${s.queueInterval}\n`;

async function writeEximEnv(s: ServiceSettings): Promise<void> {
  await writeAtomic(eximEnvFile(), eximEnvText(s));
}

/**
 * `action` on the daemon with `s` (default: the saved settings). Under systemd the unit reads
 * QUEUE_INTERVAL when it starts the daemon, so exim.env is written before every start: without
 * this a restart for a new interval (configure, before it saves the settings) ran the old one.
 */
export async function controlService(action: ServiceAction, s?: ServiceSettings): Promise<ServiceStatus> {
  const settings = s ?? (await loadServiceSettings());
  if ((action === 'start' || action === 'restart') && (await systemdRunning())) await writeEximEnv(settings);
  return serviceControl(action, settings);
}

/** Whether the daemon runs, with `s` (default: the saved settings). */
export const daemonStatus = async (s?: ServiceSettings) => controlService('status', s ?? (await loadServiceSettings()));
