import { EXIT, LabError } from '../errors.js';
import { EXIM_BINARY, EXIM_DEFAULTS } from '../paths.js';
import { saveConfigureState, loadConfigureState } from './state.js';
import { loadInstallState } from '../state/install.js';
import { machineAccounts } from '../system/accounts.js';
import { checkCertificatePair } from '../system/openssl.js';
import { loadServiceSettings, type ServiceSettings } from '../state/service.js';
import { saveStepEvidence } from '../steps/evidence.js';
import { runSteps } from '../steps/runner.js';
import type { Step, StepObserver, StepRecord } from '../steps/types.js';
import type { SafeInstallResult } from './swap.js';
import { hostFiles } from './layout.js';
import { DEFAULT_ALIASES_FILE, renderConfigure, type ConfigureFiles } from './render.js';
import { aliases } from './steps/aliases.js';
import { certificate } from './steps/certificate.js';
import type { ConfigureContext, ConfigureOptions, HostPrepContext } from './steps/context.js';
import { configureFile } from './steps/configure-file.js';
import { daemon } from './steps/daemon.js';
import { dkim } from './steps/dkim.js';
import { spool } from './steps/spool.js';
import { users } from './steps/users.js';
import { checkConfigPath } from './validate.js';

/**
 * `labctl configure` as an ordered list of steps (src/config/steps/), each of which can say
 * whether its work is already done (check) and do it (apply). The command file parses flags;
 * this module lists the steps and records the result; src/system does the work.
 */
export type { ConfigureOptions } from './steps/context.js';
/** The lab (src/lab/hosts/prepare.ts, src/lab/drills/tls.ts) and the e2e tests import these from here too. */
export { confirmDaemonServing, testAddresses } from './acceptance.js';

export interface ConfigureResult {
  changed: boolean;
  configureFile: string;
  rendered: string;
  install?: SafeInstallResult;
  queueInterval: string;
}

/** The binary and configure file `labctl install` recorded, else the lab's defaults. */
export async function installedExim(): Promise<{ binary: string; configureFile: string }> {
  const state = await loadInstallState().catch(() => undefined);
  return { binary: state?.binary ?? EXIM_BINARY, configureFile: state?.configureFile ?? EXIM_DEFAULTS.configureFile };
}

/** Checks --tls-cert/--tls-key before anything else happens. */
export async function checkGivenCertificate(o: Pick<ConfigureOptions, 'tlsCert' | 'tlsKey' | 'model'>): Promise<void> {
  if (o.tlsCert === undefined && o.tlsKey === undefined) return;
  if (o.tlsCert === undefined || o.tlsKey === undefined) {
    throw new LabError(`${o.tlsCert === undefined ? '--tls-cert' : '--tls-key'} is missing: --tls-cert and --tls-key go together`, 'give both, or neither to have labctl make them', EXIT.usage);
  }
  if (o.model.tls === 'off') throw new LabError('--tls-cert/--tls-key given with --tls off', 'drop them, or choose a TLS mode', EXIT.usage);
  checkConfigPath('--tls-cert', o.tlsCert);
  checkConfigPath('--tls-key', o.tlsKey);
  await checkCertificatePair(o.tlsCert, o.tlsKey);
}

/** The file paths the configuration will name (whether or not they exist yet). */
export function plannedFiles(o: ConfigureOptions): ConfigureFiles {
  const f = hostFiles(o.model, o.configureFile);
  const files: ConfigureFiles = { dkimPrivateKey: f.dkimPrivateKey, aliasesFile: o.aliasesFile ?? DEFAULT_ALIASES_FILE, eximBinary: o.eximBinary };
  if (o.model.tls !== 'off') {
    files.tlsCertificate = o.tlsCert ?? f.tlsCertificate;
    files.tlsPrivateKey = o.tlsKey ?? f.tlsPrivateKey;
  }
  return files;
}

/**
 * The host preparation configure begins with: local users, mail spool, postmaster alias. `lab up`
 * prepares each lab host with these same step objects, in the host's view (src/lab/hosts/prepare.ts).
 */
export const HOST_PREPARATION_STEPS: readonly Step<HostPrepContext>[] = [users, spool, aliases];

/** The steps of `labctl configure`, in order; --dry-run, --diff and --json plans run their checks. */
export const CONFIGURE_STEPS: readonly Step<ConfigureContext>[] = [...HOST_PREPARATION_STEPS, certificate, dkim, configureFile, daemon];

async function context(o: ConfigureOptions): Promise<ConfigureContext> {
  const files = plannedFiles(o);
  const saved = await loadServiceSettings();
  const wanted: ServiceSettings = { ...saved, binary: o.eximBinary, queueInterval: o.model.queueInterval };
  return {
    o,
    files,
    accounts: machineAccounts,
    layout: hostFiles(o.model, o.configureFile),
    rendered: await renderConfigure(o.model, files),
    saved,
    wanted,
    intervalChanged: saved.queueInterval !== o.model.queueInterval || saved.binary !== o.eximBinary,
    reloadPending: !!(await loadConfigureState().catch(() => undefined))?.reloadPending,
    daemonHandled: false,
  };
}

/** What configure would do: every step's record (status as if applied), the text and the diff. */
export interface ConfigurePlan {
  records: StepRecord[];
  /** True when some step would change something. */
  changed: boolean;
  /** The configuration as it would be installed. */
  rendered: string;
  /** Unified diff of the installed file against `rendered`; '' when they are the same. */
  diff: string;
}

/** What configure would do: every step's check, nothing written, no root needed. */
export async function planConfigure(o: ConfigureOptions, observer: StepObserver): Promise<ConfigurePlan> {
  const ctx = await context(o);
  const records = await runSteps(CONFIGURE_STEPS, ctx, 'check', observer);
  const diff = records.find((r) => r.id === configureFile.id)?.diff ?? '';
  return { records, changed: records.some((r) => r.status === 'changed'), rendered: ctx.rendered, diff };
}

/** `labctl configure`: the steps applied, the model saved for verify, one evidence record per step. */
export async function configureHost(o: ConfigureOptions, observer: StepObserver): Promise<ConfigureResult> {
  const ctx = await context(o);
  // A refused run takes back what it can (aliases, a new DKIM key or certificate) and names the rest.
  const records = await runSteps(CONFIGURE_STEPS, ctx, 'apply', observer, { takeBack: true });
  const changed = records.some((r) => r.status === 'changed');
  await saveConfigureState({ model: o.model, configureFile: o.configureFile, at: new Date().toISOString() });
  await saveStepEvidence('configure', records);
  return { changed, configureFile: o.configureFile, rendered: ctx.rendered, install: ctx.install, queueInterval: o.model.queueInterval };
}
