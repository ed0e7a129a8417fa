/**
 * What `labctl configure` works with: the options the command resolved, the files the
 * configuration names, the text rendered from the model (a pure function, computed once), the
 * service settings, and what the steps learn for the steps after them.
 */
import type { SafeInstallResult } from '../swap.js';
import type { HostFiles } from '../layout.js';
import type { ConfigureFiles } from '../render.js';
import type { LocalAccounts } from '../../system/accounts.js';
import type { ServiceSettings } from '../../system/service.js';
import type { HostModel } from '../model.js';

/** What the configure command resolved from its flags and the model. */
export interface ConfigureOptions {
  model: HostModel;
  /** Existing certificate and key to use instead of the lab CA's. */
  tlsCert?: string;
  tlsKey?: string;
  configureFile: string;
  eximBinary: string;
  aliasesFile?: string;
  mailSpool?: string;
}

/**
 * What the host-preparation steps (users, mail spool, aliases) read. configure gives them the
 * machine; `lab up` gives them a lab host's view (its accounts, spool and aliases file), so a lab
 * host is prepared by the very steps configure runs (src/lab/hosts/prepare.ts).
 */
export interface HostPrepContext {
  o: Pick<ConfigureOptions, 'model' | 'mailSpool'>;
  files: Pick<ConfigureFiles, 'aliasesFile'>;
  accounts: LocalAccounts;
}

export interface ConfigureContext extends HostPrepContext {
  o: ConfigureOptions;
  files: ConfigureFiles;
  layout: HostFiles;
  rendered: string;
  /** The service settings as saved, and as this configuration wants them (its -q interval). */
  saved: ServiceSettings;
  wanted: ServiceSettings;
  intervalChanged: boolean;
  /** A run interrupted between the swap and the reload left this set in configure.json. */
  reloadPending: boolean;
  install?: SafeInstallResult;
  /** The configure step reloaded or restarted the daemon already. */
  daemonHandled: boolean;
}
