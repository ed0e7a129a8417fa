import type { ModelInput, TlsMode } from './model.js';
import type { ModelFlags } from './model-flags.js';
import { checkUserTlsFiles, loadConfigFile, mergeInputs, parseBackupFor, splitFileSettings, type ConfigFileValues } from './source.js';
import { validateModel } from './validate.js';
import type { HostModel } from './model.js';

function flagsToValues(f: ModelFlags): ConfigFileValues {
  return {
    domain: f.domain,
    mailHost: f.mailHost,
    address: f.address,
    users: f.user,
    postmaster: f.postmaster,
    backupFor: f.backupFor?.map(parseBackupFor),
    backupMx: f.backupMx,
    partner: f.partner,
    tls: f.tls as TlsMode | undefined,
    tlsCert: f.tlsCert,
    tlsKey: f.tlsKey,
    dkimSelector: f.dkimSelector,
    spfPolicy: f.spf,
    dmarcPolicy: f.dmarc as ModelInput['dmarcPolicy'],
    dmarcAdkim: f.dmarcAdkim as ModelInput['dmarcAdkim'],
    dmarcAspf: f.dmarcAspf as ModelInput['dmarcAspf'],
    dmarcEnforce: f.dmarcEnforce === undefined ? undefined : (f.dmarcEnforce as unknown as boolean),
    queueInterval: f.queueInterval,
    retryRule: f.retry,
  };
}

export interface ResolvedModel {
  model: HostModel;
  tlsCert?: string;
  tlsKey?: string;
  configFile?: string;
}

/** Prompts only with a terminal on stdin and without --yes or --json. */
export const canPrompt = (f: ModelFlags) => Boolean(process.stdin.isTTY) && !f.yes && !f.json;

/** Flags, else the config file, else prompts; then validation with defaults. */
export async function resolveModel(flags: ModelFlags): Promise<ResolvedModel> {
  const file = await loadConfigFile(flags.config);
  let values = mergeInputs(file?.values, flagsToValues(flags));
  if (canPrompt(flags)) {
    const { promptMissing } = await import('./prompts.js');
    values = await promptMissing(values);
  }
  const { model, tlsCert, tlsKey } = splitFileSettings(values);
  await checkUserTlsFiles(tlsCert, tlsKey);
  return { model: validateModel(model), tlsCert, tlsKey, configFile: file?.file };
}
