/**
 * Pure parts of the Debian source: which `deb-src` lines to derive from the machine's own apt
 * sources, and what `apt-cache showsrc exim4` says about each upstream release. Debian's
 * `exim4_<v>.orig.tar.xz` is upstream's `exim-<v>.tar.xz` byte for byte, and its `.asc` is
 * upstream's signature, so labctl verifies it exactly as it would the exim.org download.
 */

/** One source entry of the machine's apt configuration that points at a Debian-style archive. */
export interface ArchiveEntry {
  uri: string;
  suites: string[];
  signedBy?: string;
}

/** Parses deb822 `.sources` stanzas and one-line `.list` entries of type `deb`. */
export function parseAptSources(files: { name: string; text: string }[]): ArchiveEntry[] {
  const out: ArchiveEntry[] = [];
  for (const { name, text } of files) {
    if (name.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (f: string) => new RegExp(`^${f}:[ \\t]*(.*)$`, 'mi').exec(stanza)?.[1].trim();
        const types = (field('Types') ?? '').split(/\s+/);
        if (!types.includes('deb') || /^no$/i.test(field('Enabled') ?? '')) continue;
        const uris = (field('URIs') ?? '').split(/\s+/).filter(Boolean);
        const suites = (field('Suites') ?? '').split(/\s+/).filter(Boolean);
        const signedBy = field('Signed-By');
        for (const uri of uris) out.push({ uri, suites, ...(signedBy && signedBy.startsWith('/') ? { signedBy } : {}) });
      }
    } else if (name.endsWith('.list')) {
      for (const line of text.split('\n')) {
        const m = /^\s*deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)/.exec(line);
        if (!m) continue;
        const signedBy = /signed-by=(\S+)/.exec(m[1] ?? '')?.[1];
        out.push({ uri: m[2], suites: [m[3]], ...(signedBy ? { signedBy } : {}) });
      }
    }
  }
  return out;
}

/**
 * Suites that may hold newer exim4 sources than the machine's own: on Debian the rolling
 * aliases, on Ubuntu the development series.
 */
export function laterSuites(distro: string): string[] {
  return distro === 'ubuntu' ? ['devel'] : ['stable', 'testing', 'unstable'];
}

/**
 * The private sources list: for each archive URI of the machine (security and update pockets
 * left out, they carry the same upstream tarballs), a `deb-src` line for the machine's own
 * release suites and for the later ones.
 */
export function derivedSourceLines(entries: ArchiveEntry[], distro: string): string[] {
  const byUri = new Map<string, { suites: Set<string>; signedBy?: string }>();
  for (const e of entries) {
    if (!/^https?:\/\//.test(e.uri) || /security/.test(e.uri)) continue;
    const own = e.suites.filter((s) => /^[a-z]+$/.test(s));
    if (!own.length) continue;
    const slot = byUri.get(e.uri) ?? { suites: new Set<string>(), signedBy: e.signedBy };
    for (const s of own) slot.suites.add(s);
    byUri.set(e.uri, slot);
  }
  const lines: string[] = [];
  for (const [uri, { suites, signedBy }] of byUri) {
    for (const s of laterSuites(distro)) suites.add(s);
    const opts = signedBy ? `[signed-by=${signedBy}] ` : '';
    for (const suite of suites) lines.push(`deb-src ${opts}${uri} ${suite} main`);
  }
  return lines;
}

export interface DebianFile {
  name: string;
  sha256: string;
  size: number;
}

export interface DebianSource {
  /** Upstream version, e.g. 4.98.2 (from the orig tarball's name). */
  version: string;
  /** Debian's version, e.g. 4.98.2-1+deb13u4. */
  debianVersion: string;
  /** Pool directory, e.g. pool/main/e/exim4. */
  directory: string;
  tarball: DebianFile;
  asc?: DebianFile;
}

/**
 * Reads `apt-cache showsrc` stanzas: the orig tarball and its `.asc` with the SHA-256 and size
 * that the archive's signed index states. One entry per upstream version (the first stanza wins).
 */
export function parseShowsrc(text: string): DebianSource[] {
  const out = new Map<string, DebianSource>();
  for (const stanza of text.split(/\n\s*\n/)) {
    const debianVersion = /^Version:\s*(\S+)/m.exec(stanza)?.[1];
    const directory = /^Directory:\s*(\S+)/m.exec(stanza)?.[1];
    const sums = /^Checksums-Sha256:\s*\n((?:[ \t]+.*\n?)+)/m.exec(stanza)?.[1];
    if (!debianVersion || !directory || !sums) continue;
    const files: DebianFile[] = [];
    for (const line of sums.split('\n')) {
      const m = /^\s+([0-9a-f]{64})\s+(\d+)\s+(\S+)/.exec(line);
      if (m) files.push({ sha256: m[1], size: Number(m[2]), name: m[3] });
    }
    const tarball = files.find((f) => /^exim4_[\d.]+\.orig\.tar\.xz$/.test(f.name));
    if (!tarball) continue;
    const version = tarball.name.replace(/^exim4_/, '').replace(/\.orig\.tar\.xz$/, '');
    if (out.has(version)) continue;
    const asc = files.find((f) => f.name === `${tarball.name}.asc`);
    out.set(version, { version, debianVersion, directory, tarball, ...(asc ? { asc } : {}) });
  }
  return [...out.values()];
}
