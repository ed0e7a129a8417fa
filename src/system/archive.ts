/**
 * Archive extraction: the only code that lets node-tar write a tree to disk. The caller passes
 * where to, and a filter that decides (and may adjust) every entry before it is written. node-tar
 * is loaded when a tarball is unpacked, not with every labctl command.
 */
import type { Stats } from 'node:fs';
import type * as Tar from 'tar';

export type TarEntry = Tar.ReadEntry;

export async function tarExtractor(o: { cwd: string; strict: boolean; preserveOwner: boolean; filter: (entryPath: string, entry: Tar.ReadEntry | Stats) => boolean }) {
  const tar = await import('tar');
  return tar.x(o);
}
