/**
 * `labctl mirror DIR`: lays out an offline copy of exim.org's download tree from Debian's
 * archive, for machines that must be prepared before they lose the network (or tests):
 *   DIR/exim4/exim-<v>.tar.xz, DIR/exim4/exim-<v>.tar.xz.asc, DIR/Exim-Maintainers-Keyring.asc
 * Every release Debian's archive carries with its upstream .asc is copied, each tarball checked
 * and its .asc against the SHA-256 in the archive's signed index. The keyring is labctl's shipped one.
 * Then: labctl install --mirror DIR/exim4
 */
import path from 'node:path';
import { LabError } from '../errors.js';
import { ensureDir, exists, removePath, sha256File, writeAtomic } from '../system/files.js';
import { debianOrigin } from './debian.js';
import { download, removeStaleParts } from './download.js';
import { KEYRING_NAME } from './mirror.js';
import { shippedKeyring } from './pinned-keys.js';
import { tarballName } from './versions.js';

export interface MirrorCopy {
  releaseDir: string;
  versions: string[];
  downloaded: string[];
}

export async function writeMirror(dir: string, opts: { cacheDir: string; log?: (line: string) => void }): Promise<MirrorCopy> {
  const log = opts.log ?? (() => {});
  const releaseDir = path.join(path.resolve(dir), 'exim4');
  await ensureDir(releaseDir);
  await removeStaleParts(releaseDir);
  const origin = await debianOrigin({ cacheDir: opts.cacheDir, log });
  for (const n of origin.notes) log(n);
  const downloaded: string[] = [];
  for (const c of origin.candidates) {
    const tarball = path.join(releaseDir, tarballName(c.version, c.format));
    if (!((await exists(tarball)) && (await sha256File(tarball)) === c.expected?.sha256)) {
      log(`downloading ${c.tarballUrl}`);
      await download(c.tarballUrl, tarball);
      downloaded.push(c.tarballUrl);
      const got = await sha256File(tarball);
      if (got !== c.expected?.sha256) {
        await removePath(tarball);
        throw new LabError(`${c.tarballUrl} does not match the SHA-256 in ${origin.label}'s signed index`, 'nothing was kept; try again, or check the network path to the archive');
      }
    }
    const asc = `${tarball}.asc`;
    await download(c.ascUrl, asc);
    if ((await sha256File(asc)) !== c.expectedAsc?.sha256) {
      await removePath(asc);
      throw new LabError(`${c.ascUrl} does not match the SHA-256 in ${origin.label}'s signed index`, 'nothing was kept; try again, or check the network path to the archive');
    }
  }
  await writeAtomic(path.join(path.dirname(releaseDir), KEYRING_NAME), shippedKeyring());
  return { releaseDir, versions: origin.candidates.map((c) => c.version), downloaded };
}
