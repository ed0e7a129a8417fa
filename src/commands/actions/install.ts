import type { InstallOptions } from '../../install/index.js';
import { safePath, safeUserName } from '../../safe-names.js';
import { isQueueInterval } from '../../install/service-unit.js';
import { usageError } from '../../errors.js';
import { SOURCE_CHOICES, type SourceChoice } from '../../source/candidates.js';
import { parseTrustedFingerprint, trustedFingerprints } from '../../source/pinned.js';
import { isValidVersion } from '../../source/versions.js';
import { StepLines } from '../../ui/steps.js';
import { locked } from '../locked.js';

export interface InstallFlags {
  source: string;
  mirror?: string;
  allowDowngrade?: boolean;
  version?: string;
  cache: string;
  keyring?: string;
  trust: string[];
  binDirectory: string;
  configureFile: string;
  eximUser: string;
  with: string[];
  without: string[];
  queueInterval?: string;
  labMode?: boolean;
  removeExisting?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  json?: boolean;
  refresh?: boolean;
  showMakefile?: boolean;
  fromBuild?: string;
  sha256?: string;
  exportBuild?: string;
}

const FEATURES = ['spf', 'dmarc'];

/**
 * The features to build: all of them (SPF and DMARC, as Debian's full Exim package does) unless
 * --without drops one; --without spf drops DMARC too, which needs SPF. --with names a feature the
 * build already has (kept for the commands written before it was the default); with --from-build
 * the build decides, and --with only asks that it has the feature.
 */
export function buildFeatures(f: Pick<InstallFlags, 'with' | 'without' | 'fromBuild'>): { spf: boolean; dmarc: boolean } {
  for (const w of f.with) if (!FEATURES.includes(w)) throw usageError(`--with ${w}: unknown feature`, `known: ${FEATURES.join(', ')}`);
  for (const w of f.without) if (!FEATURES.includes(w)) throw usageError(`--without ${w}: unknown feature`, `known: ${FEATURES.join(', ')}`);
  const both = f.with.find((w) => f.without.includes(w));
  if (both) throw usageError(`--with ${both} and --without ${both} contradict each other`, 'drop one of them');
  if (f.with.includes('dmarc') && f.without.includes('spf')) throw usageError('--with dmarc needs SPF, which --without spf drops', 'drop --without spf, or add --without dmarc');
  if (f.fromBuild !== undefined) {
    if (f.without.length) throw usageError(`--without ${f.without[0]}: --from-build installs the features its build was made with`, 'drop --without');
    return { spf: f.with.includes('spf'), dmarc: f.with.includes('dmarc') };
  }
  const spf = !f.without.includes('spf');
  return { spf, dmarc: spf && !f.without.includes('dmarc') };
}

function toOptions(f: InstallFlags): InstallOptions {
  if (f.version !== undefined && !isValidVersion(f.version)) throw usageError(`--version "${f.version}" is not an Exim version`, 'use a release number such as 4.96 or 4.98.2');
  const { spf, dmarc } = buildFeatures(f);
  const queueInterval = f.labMode ? '1m' : f.queueInterval;
  if (queueInterval !== undefined && !isQueueInterval(queueInterval)) throw usageError(`--queue-interval "${queueInterval}" is not an interval`, 'use a number and a unit, e.g. 30m, 1m or 90s');
  safePath('--bin-directory', f.binDirectory);
  safePath('--configure-file', f.configureFile);
  safeUserName('--exim-user', f.eximUser);
  if (!(SOURCE_CHOICES as readonly string[]).includes(f.source)) throw usageError(`--source ${f.source}: unknown source`, `use one of ${SOURCE_CHOICES.join(', ')}`);
  if (f.source === 'mirror' && !f.mirror) throw usageError('--source mirror needs --mirror DIR|URL', 'name the directory that holds the exim-<version>.tar.* files');
  if (f.mirror && f.source !== 'mirror' && f.source !== 'auto') throw usageError(`--mirror cannot be combined with --source ${f.source}`, 'drop --source, or use --source mirror');
  if (f.fromBuild !== undefined) {
    if (f.mirror || f.source !== 'auto') throw usageError('--from-build DIR brings its own release: it cannot be combined with --mirror or --source', 'drop --mirror and --source');
    if (f.exportBuild) throw usageError('--from-build and --export-build together would copy a build that was copied', 'export from the machine that built it');
  }
  if (f.sha256 !== undefined && f.fromBuild === undefined) throw usageError('--sha256 goes with --from-build DIR: it is the digest of DIR/build.json', 'add --from-build DIR, or drop --sha256');
  const interactive = !!process.stdin.isTTY && !f.yes;
  return {
    source: f.source as SourceChoice,
    mirror: f.mirror,
    allowDowngrade: !!f.allowDowngrade,
    version: f.version,
    cacheDir: f.cache,
    keyringFile: f.keyring,
    trusted: trustedFingerprints(f.trust.map(parseTrustedFingerprint)),
    binDirectory: f.binDirectory,
    configureFile: f.configureFile,
    eximUser: f.eximUser,
    spf,
    dmarc,
    queueInterval,
    removeExisting: !!f.removeExisting,
    yes: !!f.yes,
    confirm: async (message) => {
      if (!interactive) throw usageError(`${message.replace(/\?$/, '')}: there is no terminal to ask`, 'add --yes to answer yes');
      // The prompt library is loaded only when there is a question to ask.
      const { confirm } = await import('@inquirer/prompts');
      return confirm({ message, default: false });
    },
    json: !!f.json,
    refresh: !!f.refresh,
    ...(f.fromBuild !== undefined ? { fromBuild: f.fromBuild } : {}),
    ...(f.sha256 !== undefined ? { fromBuildSha256: f.sha256.toLowerCase() } : {}),
    ...(f.exportBuild !== undefined ? { exportBuild: f.exportBuild } : {}),
  };
}

/** `labctl install`: its flags checked, then the install, its plan or its Makefile, under the lock. */
export const installAction = locked((f: InstallFlags) => (f.dryRun || f.showMakefile ? 'shared' : 'exclusive'), (flags: InstallFlags) => ({ flags, o: toOptions(flags) }), async ({ flags, o }) => {
  // The install's steps, the source and signature code are imported here, after the flags and the lock.
  const { install, planInstall, showMakefile } = await import('../../install/index.js');
  const lines = new StepLines(flags.dryRun ? 'check' : 'apply', !!flags.json);
  const steps = () => lines.records.map(({ id, title, status, detail, ms }) => ({ id, title, status, detail, ms: Math.round(ms) }));
  if (flags.showMakefile) {
    console.log(await showMakefile(o, lines));
    return;
  }
  if (flags.dryRun) {
    await planInstall(o, lines);
    if (flags.json) console.log(JSON.stringify({ dryRun: true, steps: steps() }, null, 2));
    return;
  }
  try {
    const state = await install(o, lines);
    if (flags.json) console.log(JSON.stringify({ ok: true, version: state.version, signature: state.signature, steps: steps() }, null, 2));
    else {
      const changed = lines.records.some((r) => r.status === 'changed');
      console.log(changed ? `Exim ${state.version} is installed and running.` : `Nothing to do: Exim ${state.version} is installed and running.`);
    }
  } catch (err) {
    if (flags.json) console.log(JSON.stringify({ ok: false, error: err instanceof Error ? err.message : String(err), steps: steps() }, null, 2));
    throw err;
  }
});
