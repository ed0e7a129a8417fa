/**
 * The lab model: one typed description of a mail host, used by `labctl configure`, `labctl dns`,
 * `labctl verify` and the two-host lab. Validation lives in validate.ts; defaults in defaults().
 */
import { QUEUE_INTERVAL } from '../paths.js';

/**
 * `dane` (beyond the write-up) is starttls+smtps for incoming mail, and outgoing mail that insists on DANE:
 * hosts_require_dane = *, so a destination without a DNSSEC-validated TLSA record that matches
 * its certificate is deferred, never sent in the clear or to an unauthenticated host.
 */
export type TlsMode = 'off' | 'starttls' | 'starttls+smtps' | 'required' | 'dane';

export const TLS_MODES: readonly TlsMode[] = ['off', 'starttls', 'starttls+smtps', 'required', 'dane'];

export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

export const DMARC_POLICIES: readonly DmarcPolicy[] = ['none', 'quarantine', 'reject'];

/** DMARC identifier alignment (adkim=, aspf=): s strict (exact domain), r relaxed (same organisational domain). */
export type DmarcAlignment = 's' | 'r';

export const DMARC_ALIGNMENTS: readonly DmarcAlignment[] = ['s', 'r'];

export interface Partner {
  /** The partner's domain this host is backup MX (preference 20) for, e.g. st18.sne24.ru. */
  domain: string;
  /** The partner's own mail host (its MX 10), e.g. mail.st18.sne24.ru. */
  mailHost: string;
  /**
   * The partner mail host's address: for DNS records, the lab, and the ETRN ACL (only this
   * address may ask for the partner's held mail). Given with --backup-for, else resolved from
   * DNS by `labctl configure` and recorded here.
   */
  address?: string;
}

export interface HostModel {
  domain: string;
  /** Default mail.<domain>. */
  mailHost: string;
  /** The mail host's address, used for the A record and SPF. */
  address?: string;
  /** Local users that receive mail; default ['exim-test'] as in the write-up. */
  users: string[];
  /** Who receives postmaster@<domain>; default the first local user. */
  postmaster: string;
  /** Domains this host is backup MX for. */
  backupFor: Partner[];
  /** Hosts that back this domain up (their MX 20 records in this domain's zone). */
  backupMx: string[];
  /**
   * The partner's mail host (`--partner HOST`): the other machine of a real pair. It is expected
   * as MX 20 of this domain like a backupMx host, and `labctl verify` checks it over SMTP.
   */
  partner?: string;
  /**
   * The addresses of the backup MX hosts (backupMx and partner), resolved and recorded by
   * `labctl configure`. Mail arriving from these hosts is exempt from SPF and DMARC refusals (it
   * is this domain's own backup passing mail on; the results are still recorded); the Exim
   * configuration names the hosts, so it does not change with what DNS said at configure time.
   */
  backupMxAddresses?: string[];
  tls: TlsMode;
  dkimSelector: string;
  /** The SPF TXT value, default 'v=spf1 mx -all'. */
  spfPolicy: string;
  /** Queue runner interval for the daemon's -q option, e.g. '1m' (lab mode) or '30m'. */
  queueInterval: string;
  /** The retry rule's timing part, e.g. 'F,1h,5s; G,16h,1h,1.5; F,4d,6h'. */
  retryRule: string;
  /** DMARC policy (p=none|quarantine|reject); MODEL_DEFAULTS.dmarcPolicy when undefined. */
  dmarcPolicy?: DmarcPolicy;
  /** DMARC DKIM alignment (adkim=); MODEL_DEFAULTS.dmarcAlignment when undefined. */
  dmarcAdkim?: DmarcAlignment;
  /** DMARC SPF alignment (aspf=); MODEL_DEFAULTS.dmarcAlignment when undefined. */
  dmarcAspf?: DmarcAlignment;
  /**
   * Where Exim is built with DMARC (labctl install's default build): refuse at DATA a message whose
   * DMARC result is reject under the sender domain's policy. Default true; false only records
   * the result (the Authentication-Results header), for the lab's spoof drill without enforcement.
   */
  dmarcEnforce?: boolean;
}

/** What validateModel() accepts: any subset of the model, partners possibly without a mail host. */
export type ModelInput = Partial<Omit<HostModel, 'backupFor'>> & {
  domain?: string;
  backupFor?: Array<Partial<Partner> & { domain?: string }>;
};

/**
 * The model's defaults, in one place (the queue interval comes from src/paths.ts). Lab time: the
 * queue runner every minute and a retry rule that retries every minute for the first hour, so a
 * host that comes back gets its mail within about a minute (the write-up's 4c stalled on Exim's
 * default 15-minute first retry and -q60m).
 */
export const MODEL_DEFAULTS = {
  users: ['exim-test'],
  tls: 'starttls+smtps' as TlsMode,
  dkimSelector: 'lab',
  spfPolicy: 'v=spf1 mx -all',
  queueInterval: QUEUE_INTERVAL.lab,
  retryRule: 'F,1h,5s; G,16h,1h,1.5; F,4d,6h',
  /** Published in `_dmarc` (beyond the write-up): receivers refuse mail that fails DMARC. */
  dmarcPolicy: 'reject' as DmarcPolicy,
  dmarcAlignment: 'r' as DmarcAlignment,
  /** MTA-STS policy max_age in seconds (one week; RFC 8461 allows up to a year). */
  mtaStsMaxAge: 604800,
} as const;

export const defaultMailHost = (domain: string) => `mail.${domain}`;

/** The hosts that back this domain up (MX 20): backupMx and the partner, once each, never this host. */
export function backupMxHosts(model: Pick<HostModel, 'backupMx' | 'partner' | 'mailHost'>): string[] {
  return [...new Set([...model.backupMx, ...(model.partner ? [model.partner] : [])])].filter((h) => h !== model.mailHost);
}
