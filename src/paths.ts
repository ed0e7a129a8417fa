/**
 * Where labctl keeps things. Defaults live here only; each can be moved with an environment
 * variable so tests can run against scratch directories.
 */
const env = (name: string, fallback: string) => process.env[name] || fallback;

export const paths = {
  get stateDir() { return env('LABCTL_STATE_DIR', '/var/lib/labctl'); },
  get cacheDir() { return env('LABCTL_CACHE_DIR', '/var/cache/labctl'); },
  get buildRoot() { return env('LABCTL_BUILD_DIR', '/var/lib/labctl/build'); },
  get evidenceDir() { return `${this.stateDir}/evidence`; },
  get labDir() { return env('LABCTL_LAB_DIR', '/var/lib/labctl/lab'); },
  get unitFile() { return env('LABCTL_UNIT_FILE', '/etc/systemd/system/exim.service'); },
  /**
   * Where the one-labctl-at-a-time lock lives (src/system/lock.ts), and dpkg's package list kept
   * for the next run (src/system/dpkg-status.ts): tmpfs, so neither outlives a boot.
   */
  get lockDir() { return env('LABCTL_LOCK_DIR', '/run/labctl'); },
};

/** The lab's install layout (write-up 1d); both overridable on `labctl install`. */
export const EXIM_DEFAULTS = {
  binDirectory: '/usr/exim/bin',
  configureFile: '/usr/exim/configure',
  spoolDirectory: '/var/spool/exim',
  user: 'exim',
  group: 'exim',
} as const;

/**
 * The mail spool, as Debian keeps it (root:mail 2775): the lab's local delivery appends to
 * <MAIL_SPOOL>/<user> (templates/configure.ejs), and each lab host sees its own one here.
 */
export const MAIL_SPOOL = '/var/mail';

/** The Exim binary `make install` links in a BIN_DIRECTORY. */
export const eximBinaryIn = (binDirectory: string) => `${binDirectory}/exim`;

/** The Exim binary of the lab's install layout. */
export const EXIM_BINARY = eximBinaryIn(EXIM_DEFAULTS.binDirectory);

/**
 * The daemon's queue runner interval (-q). The service runs with the daemon's default until
 * `labctl configure` saves the lab's, which retries a partner that is back within a minute.
 */
export const QUEUE_INTERVAL = { daemon: '30m', lab: '1m' } as const;

/** Ports the lab's Exim listens on: SMTP, SMTPS (TLS on connect) and submission. */
export const PORTS = { smtp: 25, smtps: 465, submission: 587 } as const;

/**
 * The utilities Exim's scripts/exim_install puts beside the exim binary in BIN_DIRECTORY (eximon
 * only where it was built): --from-build copies these from a built tree, uninstall removes them.
 */
export const EXIM_UTILITIES = [
  'exim_dumpdb', 'exim_fixdb', 'exim_tidydb', 'exinext', 'exiwhat', 'exim_dbmbuild', 'exicyclog',
  'exigrep', 'eximstats', 'exipick', 'exiqgrep', 'exiqsumm', 'exim_lock', 'exim_checkaccess', 'exim_msgdate', 'exim_id_update',
] as const;
