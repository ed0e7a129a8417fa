/**
 * `labctl install --export-build DIR`: the release this machine installed, written as DIR (a
 * small mirror of the release, the built tree packed, build.json) for --from-build on other
 * machines (./prebuilt.ts reads it). DIR is built beside its place and swapped in whole; only an
 * earlier export, or nothing, is ever replaced.
 */
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LabError, usageError } from '../errors.js';
import { KEYRING_NAME } from '../source/mirror.js';
import { copyFile, ensureDir, exists, movePath, movePathSync, packDirectory, removePath, removePathSync, setMode, sha256File, siblingTemp } from '../system/files.js';
import { machineKind } from '../system/machine.js';
import { onInterrupt } from '../system/interrupt.js';
import { buildPaths, makefileOptions, type InstallContext } from './context.js';
import { BUILD_SCHEMA, MANIFEST, readManifest, writeManifest, type BuildManifest } from './build-manifest.js';
import { currentExport } from './prebuilt.js';
/** Only an earlier export (or nothing) is ever replaced: never a file, nor a directory of something else. */
export async function checkExportTarget(dir: string): Promise<void> {
  if (await readManifest(dir).then(() => true, () => false)) return;
  const other = 'name a new or empty directory';
  const entries = await fs.readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw usageError(`--export-build ${dir}: ${err.code === 'ENOTDIR' ? 'it is a file, not a directory' : `cannot read it (${err.code ?? err.message})`}`, other);
  });
  if (entries.length > 0) throw usageError(`--export-build ${dir}: the directory exists and is not a labctl build export (no ${MANIFEST})`, other);
}

/**
 * Writes the installed release and its built tree as DIR, whole or not at all: a fresh sibling
 * directory, renamed over DIR when complete. `changed` is false when DIR already held this build.
 */
export async function exportBuild(ctx: InstallContext, dir: string, tarballPath: string, cacheDir: string): Promise<{ changed: boolean; manifest: BuildManifest }> {
  const version = ctx.release!.version;
  const current = await currentExport(dir, ctx.inputsKey);
  if (current) return { changed: false, manifest: current };
  await checkExportTarget(dir);
  const { srcDir } = buildPaths(version);
  if (!(await exists(path.join(srcDir, 'Local', 'Makefile')))) throw new LabError(`no built tree at ${srcDir} to export`, 'run labctl install first (without --from-build)');
  const tmp = siblingTemp(path.resolve(dir), 'export');
  const forget = onInterrupt(() => removePathSync(tmp));
  try {
    await ensureDir(path.join(tmp, 'exim4'), 0o755);
    const tarball = `exim4/${path.basename(tarballPath)}`;
    await copyFile(tarballPath, path.join(tmp, tarball));
    await copyFile(`${tarballPath}.asc`, path.join(tmp, `${tarball}.asc`));
    const keyring = path.join(cacheDir, KEYRING_NAME);
    if (await exists(keyring)) await copyFile(keyring, path.join(tmp, KEYRING_NAME));
    const tree = `exim-${version}-build.tar.gz`;
    await packDirectory(srcDir, path.join(tmp, tree));
    const manifest: BuildManifest = {
      schema: BUILD_SCHEMA,
      version,
      inputsKey: ctx.inputsKey!,
      make: makefileOptions(ctx.o),
      tarball,
      tarballSha256: await sha256File(tarballPath),
      tree,
      treeSha256: await sha256File(path.join(tmp, tree)),
      machine: await machineKind(),
      builtOn: os.hostname(),
      exportedAt: new Date().toISOString(),
    };
    await writeManifest(tmp, manifest);
    await setMode(tmp, 0o755);
    if (await exists(dir)) await swapIn(tmp, dir);
    else {
      await ensureDir(path.dirname(path.resolve(dir)));
      await movePath(tmp, dir);
    }
    return { changed: true, manifest };
  } finally {
    await removePath(tmp);
    forget();
  }
}

/**
 * Puts the complete `tmp` where the earlier export `dir` was. DIR is missing only between the two
 * renames: a failed second rename, or Ctrl-C there, puts the earlier export back.
 */
async function swapIn(tmp: string, dir: string): Promise<void> {
  const old = siblingTemp(path.resolve(dir), 'old');
  await movePath(dir, old);
  const settle = onInterrupt(() => (existsSync(dir) ? removePathSync(old) : movePathSync(old, dir)));
  try {
    await movePath(tmp, dir);
  } catch (err) {
    await movePath(old, dir);
    throw err;
  } finally {
    settle();
  }
  await removePath(old);
}
