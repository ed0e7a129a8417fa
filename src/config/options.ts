import type { Command } from 'commander';
import { TLS_MODES, DMARC_POLICIES, MODEL_DEFAULTS, type ModelInput, type TlsMode } from './model.js';
import { checkUserTlsFiles, loadConfigFile, mergeInputs, parseBackupFor, splitFileSettings, type ConfigFileValues } from './source.js';
import { validateModel } from './validate.js';
import type { HostModel } from './model.js';

/** The flags `labctl configure` and `labctl dns` share, and how they become a HostModel. */
export interface ModelFlags {
  domain?: string;
  mailHost?: string;
  address?: string;
  user?: string[];
  postmaster?: string;
  backupFor?: string[];
  backupMx?: string[];
  tls?: string;
  tlsCert?: string;
  tlsKey?: string;
  dkimSelector?: string;
  spf?: string;
  dmarc?: string;
  dmarcAdkim?: string;
  dmarcAspf?: string;
  dmarcEnforce?: string;
  queueInterval?: string;
  retry?: string;
  config?: string;
  yes?: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export function addModelOptions(cmd: Command): Command {
  return cmd
    .option('--domain <name>', 'the mail domain, e.g. st14.sne24.ru')
    .option('--mail-host <name>', 'the mail host name (default mail.<domain>)')
    .option('--address <ip>', "the mail host's address (A record, SPF)")
    .option('--user <name>', `a local user that receives mail (repeatable; default ${MODEL_DEFAULTS.users[0]})`, collect)
    .option('--postmaster <user>', 'who receives postmaster@<domain> (default the first user)')
    .option('--backup-for <domain[,mailhost[,address]]>', "be backup MX for a partner's domain (repeatable)", collect)
    .option('--backup-mx <host>', 'a partner mail host that backs this domain up, MX 20 (repeatable)', collect)
    .option('--tls <mode>', `${TLS_MODES.join(' | ')} (default ${MODEL_DEFAULTS.tls})`)
    .option('--tls-cert <file>', 'use this PEM certificate instead of one from the lab CA')
    .option('--tls-key <file>', 'the private key for --tls-cert')
    .option('--dkim-selector <label>', `DKIM selector (default ${MODEL_DEFAULTS.dkimSelector})`)
    .option('--spf <policy>', `SPF TXT value (default "${MODEL_DEFAULTS.spfPolicy}")`)
    .option('--dmarc <policy>', `DMARC policy to publish: ${DMARC_POLICIES.join(' | ')} (default ${MODEL_DEFAULTS.dmarcPolicy})`)
    .option('--dmarc-adkim <s|r>', `DMARC DKIM alignment: s strict, r relaxed (default ${MODEL_DEFAULTS.dmarcAlignment})`)
    .option('--dmarc-aspf <s|r>', `DMARC SPF alignment: s strict, r relaxed (default ${MODEL_DEFAULTS.dmarcAlignment})`)
    .option('--dmarc-enforce <on|off>', 'where Exim is built with DMARC (install --with dmarc): refuse mail that fails the sender\'s DMARC reject policy (default on); off only records the result')
    .option('--queue-interval <time>', `queue runner interval for the daemon (default ${MODEL_DEFAULTS.queueInterval}, lab time)`)
    .option('--retry <rule>', `retry rule timing (default "${MODEL_DEFAULTS.retryRule}")`)
    .option('--config <file>', 'read settings from this JSON or YAML file (default ./labctl.yaml when present, only if it and its directory belong to root and nobody else can write them)')
    .option('-y, --yes', 'never prompt; a missing value is an error')
    .option('--json', 'print the result as JSON');
}

function flagsToValues(f: ModelFlags): ConfigFileValues {
  return {
    domain: f.domain,
    mailHost: f.mailHost,
    address: f.address,
    users: f.user,
    postmaster: f.postmaster,
    backupFor: f.backupFor?.map(parseBackupFor),
    backupMx: f.backupMx,
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
