/**
 * What `labctl install` works with: the options the command parsed, and the values its steps
 * produce for the steps after them (the plan of the source, the verified release, the build
 * tree). Each step reads only what steps before it set.
 */
import { createHash } from 'node:crypto';
import { labSettings } from './makefile.js';
import path from 'node:path';
import type { EvidenceItem } from '../evidence/store.js';
import { eximBinaryIn, paths } from '../paths.js';
import type { Origin, SourceChoice } from '../source/candidates.js';
import type { FetchedSource } from '../source/fetch.js';
import type { InstallState, RestartPending } from '../state/install.js';
import type { MakefileOptions } from './makefile.js';
import type { BuildManifest } from './build-manifest.js';
import { unknownOutcome, type CheckOutcome } from '../steps/types.js';
import type { ListingAge } from '../source/listing-cache.js';

export interface InstallOptions {
  source: SourceChoice;
  mirror?: string;
  version?: string;
  allowDowngrade: boolean;
  cacheDir: string;
  keyringFile?: string;
  trusted: string[];
  binDirectory: string;
  configureFile: string;
  eximUser: string;
  spf: boolean;
  dmarc?: boolean;
  /** The daemon's -q interval; undefined keeps the one saved by an earlier install or configure. */
  queueInterval?: string;
  removeExisting: boolean;
  /** Answers yes to every question (removal, advisories). */
  yes: boolean;
  confirm: (question: string) => Promise<boolean>;
  json: boolean;
  /** --refresh: read the source's listing now, not the one a run within the window kept. */
  refresh?: boolean;
  /** --from-build DIR: install the built tree DIR holds (src/install/prebuilt.ts) instead of compiling. */
  fromBuild?: string;
  /** --sha256 DIGEST with --from-build: the sha256 of DIR/build.json as the controller computed it. */
  fromBuildSha256?: string;
  /** --export-build DIR: after the install, write the release and its built tree as DIR. */
  exportBuild?: string;
}

export interface InstallContext {
  o: InstallOptions;
  binary: string;
  note: (text: string) => void;
  /** True for a plan (--dry-run): checks only, and they may say more about what would happen. */
  planning: boolean;
  /** The Exim version installed when the run started (from `exim -bV`). */
  installedBefore?: string;
  /** What `exim -bV` said when the run started (the version step reuses it when nothing was built). */
  versionBefore?: import('../system/exim.js').EximVersionInfo;
  /** install.json as the last install left it. */
  previous?: InstallState;
  /** The source and its releases, newest first (set by the source step's check). */
  origin?: Origin;
  /** How old that listing is (undefined for a local directory, always read). */
  listingAge?: ListingAge;
  /** The verified release (set by the source step; by its check in a plan, from the cache). */
  release?: FetchedSource;
  /** A plan's release whose tarball the run would download (set by the source step's check). */
  pending?: { version: string };
  /** The digest of everything the build depends on. */
  inputsKey?: string;
  /** True when this release was already built and installed with these inputs. */
  upToDate?: boolean;
  /** This run's make went through ccache (LABCTL_CCACHE=1): its directory and the compiles it served. */
  ccache?: { dir: string; hits?: number; misses?: number };
  /** Where `exim` pointed before make install, for a rollback. */
  previousLink?: string;
  /** The binary was (being) replaced and the daemon not restarted yet: from install.json, or set by make install. */
  restartPending?: RestartPending;
  /** --from-build: the build manifest read from DIR (set by the context, checked by extract). */
  prebuilt?: BuildManifest;
  /** --from-build: the build directory (build-<os>-<arch>) the built programs were put in (set by extract). */
  prebuiltBuildDir?: string;
  /** Evidence a step leaves for a later step's record (none today; steps return their own). */
  extra?: Record<string, EvidenceItem[]>;
}

/** Exim's build dependencies; 4.98 and later also run a perl script (exim_id_update) that needs File::FcntlLock. */
export const BUILD_PACKAGES = ['build-essential', 'libssl-dev', 'libpcre2-dev', 'libdb-dev', 'pkg-config', 'libfile-fcntllock-perl'];
export const buildPackages = (o: Pick<InstallOptions, 'spf' | 'dmarc'>) => [
  ...BUILD_PACKAGES,
  ...(o.spf || o.dmarc ? ['libspf2-dev'] : []),
  ...(o.dmarc ? ['libopendmarc-dev'] : []),
];

export const makefileOptions = (o: InstallOptions): MakefileOptions => ({ eximUser: o.eximUser, binDirectory: o.binDirectory, configureFile: o.configureFile, spf: o.spf, ...(o.dmarc ? { dmarc: true } : {}) });

export function inputsKey(o: InstallOptions, version: string, tarballSha: string): string {
  // The effective settings, not only the flags: a setting labctl adds by default (AUTH_PLAINTEXT)
  // must rebuild an Exim built before it, though no flag changed.
  const make = makefileOptions(o);
  return createHash('sha256').update(JSON.stringify({ version, tarballSha, make, settings: labSettings(make) })).digest('hex').slice(0, 16);
}

export const binaryOf = (o: InstallOptions) => eximBinaryIn(o.binDirectory);

/** The source tree and build log of a release. */
export function buildPaths(version: string) {
  const srcDir = path.join(paths.buildRoot, `exim-${version}`);
  return { srcDir, buildLog: `${srcDir}.build.log` };
}

/** The release the later steps work on; a step that needs it before the source step ran is a bug. */
export function releaseOf(ctx: InstallContext): FetchedSource {
  if (!ctx.release) throw new Error('install: the source step has not run');
  return ctx.release;
}

/**
 * A plan's check of a step that builds from the release, when the source step could not read it
 * from the cache: not done where nothing is installed or another release would replace it,
 * otherwise unknown (the tarball the run would download may or may not be the one built).
 */
export function withoutRelease(ctx: InstallContext): CheckOutcome {
  const v = ctx.pending?.version;
  if (!ctx.installedBefore) return { done: false, detail: `no Exim at ${ctx.binary} yet` };
  if (v && v !== ctx.installedBefore) return { done: false, detail: `Exim ${v} would replace the installed ${ctx.installedBefore}` };
  return unknownOutcome(v ? `Exim ${v}'s tarball is not in the cache: whether it is the one built cannot be told before it is downloaded` : 'the source step could not tell which release the run would install');
}

/**
 * Whether the chosen release is already built and installed with these inputs (same tarball
 * digest, same Makefile settings, that version answering -bV). Computed once, after the source
 * step; undefined before it (a plan).
 */
export async function isUpToDate(ctx: InstallContext): Promise<boolean | undefined> {
  if (!ctx.release) return undefined;
  if (ctx.upToDate === undefined) {
    const sha = ctx.release.sha256;
    ctx.inputsKey = inputsKey(ctx.o, ctx.release.version, sha);
    ctx.upToDate = ctx.previous?.inputsKey === ctx.inputsKey && ctx.installedBefore === ctx.release.version;
  }
  return ctx.upToDate;
}

