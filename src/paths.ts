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
};

/** The lab's install layout (write-up 1d); both overridable on `labctl install`. */
export const EXIM_DEFAULTS = {
  binDirectory: '/usr/exim/bin',
  configureFile: '/usr/exim/configure',
  spoolDirectory: '/var/spool/exim',
  user: 'exim',
  group: 'exim',
} as const;
