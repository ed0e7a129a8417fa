/**
 * The flags `labctl configure` and `labctl dns` share, defined at startup for their help;
 * options.ts turns them into a HostModel when the command runs.
 */
import type { Command } from 'commander';
import { TLS_MODES, DMARC_POLICIES, MODEL_DEFAULTS } from './model.js';

export interface ModelFlags {
  domain?: string;
  mailHost?: string;
  address?: string;
  user?: string[];
  postmaster?: string;
  backupFor?: string[];
  backupMx?: string[];
  partner?: string;
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
    .option('--partner <host>', "the partner's mail host in a real pair: expected as MX 20, checked by labctl verify over SMTP")
    .option('--tls <mode>', `${TLS_MODES.join(' | ')} (default ${MODEL_DEFAULTS.tls})`)
    .option('--tls-cert <file>', 'use this PEM certificate instead of one from the lab CA')
    .option('--tls-key <file>', 'the private key for --tls-cert')
    .option('--dkim-selector <label>', `DKIM selector (default ${MODEL_DEFAULTS.dkimSelector})`)
    .option('--spf <policy>', `SPF TXT value (default "${MODEL_DEFAULTS.spfPolicy}")`)
    .option('--dmarc <policy>', `DMARC policy to publish: ${DMARC_POLICIES.join(' | ')} (default ${MODEL_DEFAULTS.dmarcPolicy})`)
    .option('--dmarc-adkim <s|r>', `DMARC DKIM alignment: s strict, r relaxed (default ${MODEL_DEFAULTS.dmarcAlignment})`)
    .option('--dmarc-aspf <s|r>', `DMARC SPF alignment: s strict, r relaxed (default ${MODEL_DEFAULTS.dmarcAlignment})`)
    .option('--dmarc-enforce <on|off>', 'where Exim is built with DMARC (the default build of install): refuse mail that fails the sender\'s DMARC reject policy (default on); off only records the result')
    .option('--queue-interval <time>', `queue runner interval for the daemon (default ${MODEL_DEFAULTS.queueInterval}, lab time)`)
    .option('--retry <rule>', `retry rule timing (default "${MODEL_DEFAULTS.retryRule}")`)
    .option('--config <file>', 'read settings from this JSON or YAML file (default ./labctl.yaml when present, only if it and its directory belong to root and nobody else can write them)')
    .option('-y, --yes', 'never prompt; a missing value is an error')
    .option('--json', 'print the result as JSON');
}
