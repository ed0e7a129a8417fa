/**
 * What `labctl uninstall` works with: where labctl's Exim went, read from what install recorded
 * (install.json: BIN_DIRECTORY and CONFIGURE_FILE; without it, the service settings' binary),
 * and whether systemd runs here.
 */
import path from 'node:path';
import { EXIM_DEFAULTS } from '../paths.js';
import { loadInstallState, type InstallState } from '../state/install.js';
import { loadServiceSettings } from '../state/service.js';
import { systemdRunning } from '../system/service.js';

export interface UninstallContext {
  /** install.json as the last install left it; undefined once uninstall removed it (or never installed). */
  installed?: InstallState;
  binDirectory: string;
  configureFile: string;
  systemd: boolean;
  planning: boolean;
  note: (text: string) => void;
}

const setting = (s: InstallState | undefined, name: string) => s?.settings.find((x) => x.name === name)?.value;

export async function uninstallContext(planning: boolean, note: (text: string) => void): Promise<UninstallContext> {
  const installed = await loadInstallState();
  const service = await loadServiceSettings();
  return {
    installed,
    binDirectory: setting(installed, 'BIN_DIRECTORY') ?? (installed ? path.dirname(installed.binary) : path.dirname(service.binary)),
    configureFile: setting(installed, 'CONFIGURE_FILE') ?? installed?.configureFile ?? EXIM_DEFAULTS.configureFile,
    systemd: await systemdRunning(),
    planning,
    note,
  };
}
