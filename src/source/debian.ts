/**
 * `--source debian`: the upstream tarballs in Debian's (or Ubuntu's) source archive, found
 * through a private apt state under labctl's cache (its own sources list, lists and caches; the
 * machine's apt configuration is never touched). The `deb-src` lines are derived from the
 * machine's own archive URIs, for its own release and the later suites, which hold newer exim4
 * sources. Only `exim4_<v>.orig.tar.xz` and its `.asc` are fetched, later, by the selection: the
 * tarball is upstream's byte for byte; its digest and the `.asc`'s are checked against the
 * archive's signed index (the Sources file apt verified), and its upstream signature against
 * labctl's pinned keys.
 */
import path from 'node:path';
import { LabError } from '../errors.js';
import { machineAptSources, privateShowsrc } from '../system/apt.js';
import type { Origin } from './candidates.js';
import { newestFirst } from './candidates.js';
import { derivedSourceLines, parseAptSources, parseShowsrc } from './debian-index.js';

export interface DebianOrigin extends Origin {
  /** The private sources list, for the record. */
  sourceLines: string[];
}

export async function debianOrigin(opts: { cacheDir: string; version?: string; log?: (line: string) => void }): Promise<DebianOrigin> {
  const machine = await machineAptSources();
  const entries = parseAptSources(machine.files);
  const lines = derivedSourceLines(entries, machine.distro);
  if (!lines.length) {
    throw new LabError("no Debian or Ubuntu archive found in this machine's apt sources (/etc/apt/sources.list, sources.list.d)", 'add the archive to apt, or use --source mirror --mirror DIR');
  }
  const uri = lines[0].split(' ').find((w) => /^https?:\/\//.test(w))!.replace(/\/$/, '');
  const suites = lines.map((l) => l.split(' ').at(-2));
  opts.log?.(`reading exim4 sources from ${uri} (${suites.join(', ')}) with a private apt state`);
  const { showsrc, updateLog } = await privateShowsrc(path.join(opts.cacheDir, 'apt'), lines, 'exim4');
  const found = parseShowsrc(showsrc);
  if (!found.length) {
    const last = updateLog.split('\n').filter((l) => /^(E|W|Err):/.test(l)).slice(-1)[0];
    throw new LabError(`Debian's archive at ${uri} lists no exim4 source with an upstream tarball${last ? ` (${last.trim()})` : ''}`, 'check the network to the archive, or use --source mirror --mirror DIR');
  }
  const notes: string[] = [];
  const signed = found.filter((s) => {
    if (s.asc) return true;
    notes.push(`Debian's exim4 ${s.debianVersion} carries no upstream signature (.asc): not a candidate`);
    opts.log?.(notes.at(-1)!);
    return false;
  });
  const candidates = newestFirst(
    signed.map((s) => {
      const tarballUrl = `${uri}/${s.directory}/${s.tarball.name}`;
      const asc = s.asc!;
      return { version: s.version, format: 'xz' as const, tarballUrl, ascUrl: `${uri}/${s.directory}/${asc.name}`, expected: { sha256: s.tarball.sha256, size: s.tarball.size }, expectedAsc: { sha256: asc.sha256, size: asc.size } };
    }),
  );
  const chosen = opts.version ? candidates.filter((c) => c.version === opts.version) : candidates;
  if (opts.version && !chosen.length) {
    throw new LabError(`Exim ${opts.version} is not in Debian's archive`, `there: ${candidates.map((c) => c.version).join(', ')}`);
  }
  return { kind: 'debian', label: `Debian's archive (${suites.join(', ')})`, candidates: chosen, notes, sourceLines: lines };
}
