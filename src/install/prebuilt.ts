/**
 * Build once, install on many machines: `labctl install --export-build DIR` writes the release it
 * installed as DIR, and `labctl install --from-build DIR --sha256 DIGEST` on another machine
 * installs from it without compiling.
 *
 * DIR holds a small mirror of the release (exim4/exim-<v>.tar.* and its .asc, and the
 * maintainers' keyring when labctl has one), the built source tree (exim-<v>-build.tar.gz, the
 * tree `make` left, Local/Makefile included) and build.json, which names them with their digests.
 *
 * What is trusted, and why:
 * - the release tarball: its signature, checked again here against labctl's pinned keys;
 * - build.json: only through DIGEST, its sha256 as the machine that made or collected the export
 *   computed it (the class controller) and passed on the command line. A digest read from DIR
 *   itself proves nothing: whoever can change the tree can change build.json with it;
 * - the built tree: through its sha256 in that authenticated build.json, and only when it was
 *   built from the same verified tarball with the same Makefile settings (the inputs key), for the
 *   same architecture and OS release.
 * No `make` runs in the copied tree: the verified tarball is unpacked as for any install, only the
 * built programs (INSTALLED_PROGRAMS) and the build directory's Makefile are taken from the tree,
 * and Exim's own scripts/exim_install from the verified tarball installs them, with the paths and
 * commands it would read from that Makefile given on its environment instead.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LabError, usageError } from '../errors.js';
import { EXIM_UTILITIES } from '../paths.js';
import { copyFile, ensureDir, exists, makeTempDir, removePath, removePathSync, sha256File } from '../system/files.js';
import { extractTarball } from '../source/extract.js';
import { machineKind } from '../system/machine.js';
import { onInterrupt } from '../system/interrupt.js';
import type { InstallContext, InstallOptions } from './context.js';
import { MANIFEST, readManifest, SHA256, type BuildManifest } from './build-manifest.js';
import { safePath, safeUserName } from '../safe-names.js';

/** What Exim's scripts/exim_install installs by default (4.96 to 4.98), without the X11 monitor. */
export const INSTALLED_PROGRAMS = ['exim', ...EXIM_UTILITIES];
/** Exim's build directory, build-<os>-<arch>. */
const BUILD_DIR = /^build-[A-Za-z0-9_.+-]+$/;

/**
 * DIR's manifest when DIR already holds this build whole: the same inputs, and the tarball and
 * the tree there with the digests the manifest records (a deleted or truncated file is exported
 * again, not reported as up to date).
 */
export async function currentExport(dir: string, inputsKey: string | undefined): Promise<BuildManifest | undefined> {
  const m = await readManifest(dir).catch(() => undefined);
  if (!m || m.inputsKey !== inputsKey || !(await exists(path.join(dir, `${m.tarball}.asc`)))) return undefined;
  for (const [name, sha] of [[m.tarball, m.tarballSha256], [m.tree, m.treeSha256]] as const) {
    const file = path.join(dir, name);
    if (!(await exists(file)) || (await sha256File(file)) !== sha) return undefined;
  }
  return m;
}

/**
 * --from-build DIR: the release is DIR's mirror, exactly the version built there, and the build's
 * settings (--with, --bin-directory, --configure-file, --exim-user), which the binary has baked in.
 * Asking for a feature the build lacks is refused.
 */
export async function fromBuildOptions(o: InstallOptions): Promise<{ o: InstallOptions; manifest?: BuildManifest }> {
  if (!o.fromBuild) return { o };
  const dir = path.resolve(o.fromBuild);
  if (!o.fromBuildSha256 || !SHA256.test(o.fromBuildSha256)) {
    throw usageError(
      `--from-build ${dir} needs --sha256 DIGEST: the sha256 of its ${MANIFEST}, computed where the export was made or collected`,
      `on that machine: sha256sum ${MANIFEST} (64 lowercase hex digits); a digest read from the export itself proves nothing`,
    );
  }
  const m = await readManifest(dir, o.fromBuildSha256);
  const drop = 'drop the flag: the build decides, or export a build made with it';
  if (o.version && o.version !== m.version) throw usageError(`--version ${o.version} and --from-build ${dir} (Exim ${m.version}) disagree`, drop);
  for (const f of ['spf', 'dmarc'] as const) {
    if (o[f] && !m.make[f]) throw usageError(`--with ${f}: the build in ${dir} was made without it`, drop);
  }
  // The manifest's settings reach the Makefile and the unit like the flags they stand for.
  safePath(`${MANIFEST} make.binDirectory`, m.make.binDirectory);
  safePath(`${MANIFEST} make.configureFile`, m.make.configureFile);
  safeUserName(`${MANIFEST} make.eximUser`, m.make.eximUser);
  const resolved: InstallOptions = {
    ...o,
    fromBuild: dir,
    source: 'mirror',
    mirror: path.join(dir, 'exim4'),
    version: m.version,
    spf: m.make.spf,
    dmarc: !!m.make.dmarc,
    binDirectory: m.make.binDirectory,
    configureFile: m.make.configureFile,
    eximUser: m.make.eximUser,
  };
  return { o: resolved, manifest: m };
}

/**
 * Whether DIR's built tree can stand in for a build here: the same tarball (its digest, the one
 * this run verified) and settings, the same machine kind. Then the tree is copied to a private
 * directory, that copy's digest compared with the one build.json records (build.json itself was
 * checked against --sha256), and the copy unpacked there. Nothing in the build root is touched
 * yet: `place` puts the built programs into the source tree the verified tarball unpacked to.
 */
export async function stagePrebuilt(ctx: InstallContext, m: BuildManifest, dir: string): Promise<StagedBuild> {
  const here = await machineKind();
  const redo = 'export the build again from a machine like this one, or run without --from-build';
  if (m.machine.arch !== here.arch || m.machine.os !== here.os) {
    throw new LabError(`--from-build ${dir}: built for ${m.machine.arch}, ${m.machine.os}; this machine is ${here.arch}, ${here.os}`, redo);
  }
  if (m.inputsKey !== ctx.inputsKey) {
    // The settings come from the manifest, so the tarball this run verified is what differs.
    throw new LabError(`--from-build ${dir}: built from another tarball than the one this run verified (inputs ${m.inputsKey}, here ${ctx.inputsKey})`, redo);
  }
  const tree = path.join(dir, m.tree);
  if (!(await exists(tree))) throw new LabError(`--from-build ${dir}: ${m.tree} is missing`, redo);
  const tmp = await makeTempDir('labctl-prebuilt-');
  const forget = onInterrupt(() => removePathSync(tmp));
  const dispose = async () => {
    await removePath(tmp);
    forget();
  };
  try {
    // The digest is taken of the private copy, and the copy is what is unpacked.
    const copy = path.join(tmp, 'tree.tar.gz');
    await copyFile(tree, copy, 0o600);
    const sha = await sha256File(copy);
    if (sha !== m.treeSha256) throw new LabError(`--from-build ${dir}: ${m.tree} does not match ${MANIFEST} (sha256 ${sha.slice(0, 16)}…, recorded ${m.treeSha256.slice(0, 16)}…)`, redo);
    const top = await extractTarball(copy, path.join(tmp, 'tree'));
    const want = `exim-${m.version}`;
    if (path.basename(top) !== want) throw new LabError(`--from-build ${dir}: ${m.tree} holds ${path.basename(top)}, expected ${want}`, redo);
    const builds = (await fs.readdir(top)).filter((n) => BUILD_DIR.test(n));
    if (builds.length !== 1) throw new LabError(`--from-build ${dir}: ${m.tree} has ${builds.length} build directories (build-<os>-<arch>), expected one`, redo);
    const buildDir = builds[0];
    const from = path.join(top, buildDir);
    const files: [string, number][] = [];
    for (const name of [...INSTALLED_PROGRAMS, 'Makefile']) {
      const st = await fs.lstat(path.join(from, name)).catch(() => undefined);
      if (!st) continue;
      if (!st.isFile()) throw new LabError(`--from-build ${dir}: ${m.tree}: ${buildDir}/${name} is not a regular file`, redo);
      files.push([name, name === 'Makefile' ? 0o644 : 0o755]);
    }
    if (!files.some(([n]) => n === 'exim')) throw new LabError(`--from-build ${dir}: ${m.tree} has no ${buildDir}/exim`, redo);
    return {
      buildDir,
      programs: files.map(([n]) => n).filter((n) => n !== 'Makefile'),
      async place(srcDir: string) {
        await ensureDir(path.join(srcDir, buildDir), 0o755);
        for (const [name, mode] of files) await copyFile(path.join(from, name), path.join(srcDir, buildDir, name), mode);
      },
      dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}

export interface StagedBuild {
  /** Exim's build directory in the tree, build-<os>-<arch>. */
  buildDir: string;
  /** The built programs taken from the tree. */
  programs: string[];
  /** Copies the programs and the build directory's Makefile into srcDir/buildDir. */
  place(srcDir: string): Promise<void>;
  /** Removes the private copy. */
  dispose(): Promise<void>;
}

/**
 * What Exim's scripts/exim_install would otherwise read from the build directory's Makefile (the
 * paths, and the chown and mv it runs as root), given on its environment from labctl's own
 * settings. Its INST_ variables take precedence over the Makefile.
 */
export function eximInstallEnv(o: Pick<InstallOptions, 'binDirectory' | 'configureFile'>, buildDir: string): Record<string, string> {
  return {
    build: buildDir.replace(/^build-/, ''),
    INST_BIN_DIRECTORY: o.binDirectory,
    INST_CONFIGURE_FILE: o.configureFile,
    INST_SYSTEM_ALIASES_FILE: '/etc/aliases',
    INST_CHOWN: '/usr/bin/chown',
    INST_MV: '/usr/bin/mv',
    INST_UID: 'root',
  };
}
