/**
 * Unpacks a release tarball with node-tar. node-tar reads gzip itself; xz (xz-decompress,
 * WebAssembly) and bzip2 (unbzip2-stream) are decompressed as streams in front of it. Entries
 * that would land outside the target (absolute paths, `..`, links pointing out) are refused,
 * not silently rewritten. Everything is unpacked into a temporary directory beside the target
 * and moved into place only on success, so a failure leaves nothing behind.
 *
 * A name check alone cannot see where a chain of symlinks leads (`a/b/s -> ../..` and
 * `x -> a/b/s/../OUTSIDE` each look harmless), so once unpacked every symlink is resolved
 * through the real tree, and one that leads out of the source directory refuses the tarball.
 * Files and directories lose setuid, setgid and sticky bits: a source tree needs none, and the
 * build runs as root.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { LabError, errorMessage } from '../errors.js';
import { ensureDir, exists, movePath, readRegularFile, removePath, removePathSync, siblingTemp } from '../system/files.js';
import { onInterrupt } from '../system/interrupt.js';
import { tarExtractor, type TarEntry } from '../system/archive.js';

export type Compression = 'xz' | 'bz2' | 'gz' | 'none';

// The decompressors and node-tar are loaded when a tarball is unpacked, not with labctl install
// (a warm rerun unpacks nothing). xz-decompress is CommonJS: its exports arrive as the default.
type XzCtor = new (compressed: WebReadableStream<Uint8Array>) => WebReadableStream<Uint8Array>;
async function xzReadableStream(): Promise<XzCtor> {
  const xzModule = await import('xz-decompress');
  return (
    (xzModule as unknown as { default?: { XzReadableStream: XzCtor } }).default?.XzReadableStream ??
    (xzModule as unknown as { XzReadableStream: XzCtor }).XzReadableStream
  );
}

/** The compression of a tarball, from its first bytes; undefined when it is none of these. */
export function compressionOf(b: Uint8Array): Compression | undefined {
  const head = Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, 512));
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bz2';
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gz';
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'none';
  return undefined;
}

/** Why an entry would land outside the target, or undefined when it stays inside. */
export function escapeReason(entryPath: string, type: string, linkpath?: string): string | undefined {
  const p = entryPath.replace(/\\/g, '/');
  if (p.startsWith('/') || /^[a-z]:/i.test(p)) return 'absolute path';
  if (p.split('/').includes('..')) return "path contains '..'";
  if (type === 'SymbolicLink' || type === 'Link') {
    const link = (linkpath ?? '').replace(/\\/g, '/');
    const kind = type === 'Link' ? 'hard link' : 'symlink';
    if (!link) return `${kind} without a target`;
    if (link.startsWith('/') || /^[a-z]:/i.test(link)) return `${kind} to an absolute path (${link})`;
    // A symlink resolves from its own directory, a hard link from the archive's root.
    const from = type === 'SymbolicLink' ? path.posix.dirname(p) : '.';
    const resolved = path.posix.normalize(path.posix.join(from, link));
    if (resolved === '..' || resolved.startsWith('../')) return `${kind} pointing outside (${link})`;
  }
  return undefined;
}

/** Linux gives up after 40 symlinks in one lookup (ELOOP); so does the check below. */
export const MAX_SYMLINK_HOPS = 40;

export type LinkResolution =
  | { inside: true; target: string }
  | { inside: false; why: string };

/**
 * Resolves the symlink at `rel` (relative to `root`, reached through real directories) the way
 * the kernel would: component by component, reading every symlink met on the way, up to
 * MAX_SYMLINK_HOPS. `..` above `root` means the link leads out. A component that does not
 * exist yet (or is not a directory) makes the rest of the path lexical until a `..` takes it
 * off again, since a build may create it later.
 */
export async function resolveSymlink(root: string, rel: string): Promise<LinkResolution> {
  const stack = path.posix.dirname(rel.split(path.sep).join('/')).split('/').filter((c) => c && c !== '.');
  let missing = 0; // how many components at the top of `stack` do not exist on disk
  let pending = (await fs.readlink(path.join(root, rel))).split('/');
  let hops = 1;
  if (pending[0] === '') return { inside: false, why: 'points to an absolute path' };
  while (pending.length) {
    const c = pending.shift()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (!stack.length) return { inside: false, why: 'resolves outside the source directory' };
      stack.pop();
      if (missing) missing--;
      continue;
    }
    if (missing) {
      stack.push(c);
      missing++;
      continue;
    }
    const here = path.join(root, ...stack, c);
    const st = await fs.lstat(here).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      if (++hops > MAX_SYMLINK_HOPS) return { inside: false, why: `goes through more than ${MAX_SYMLINK_HOPS} symlinks` };
      const next = (await fs.readlink(here)).split('/');
      if (next[0] === '') return { inside: false, why: `goes through ${stack.concat(c).join('/')}, which points to an absolute path` };
      pending = next.concat(pending);
      continue;
    }
    stack.push(c);
    if (!st || (!st.isDirectory() && pending.some((p) => p && p !== '.'))) missing = 1;
  }
  return { inside: true, target: stack.join('/') || '.' };
}

/** Refuses the tarball when a symlink anywhere under `root` leads out of it. */
async function refuseEscapingLinks(file: string, root: string): Promise<void> {
  const top = path.basename(root);
  const walk = async (rel: string): Promise<void> => {
    for (const d of await fs.readdir(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) {
        await walk(child);
      } else if (d.isSymbolicLink()) {
        const r = await resolveSymlink(root, child);
        if (!r.inside) {
          const link = await fs.readlink(path.join(root, child));
          throw new LabError(
            `${path.basename(file)}: refusing tar entry ${JSON.stringify(`${top}/${child}`)}: symlink to ${link} ${r.why}`,
            'the tarball is not a plain source release; nothing was extracted',
          );
        }
      }
    }
  };
  await walk('');
}

/** The tarball's bytes, decompressed, as a stream that holds them until it is read. */
export async function decompressed(bytes: Buffer, compression: Compression): Promise<Readable> {
  const XzReadableStream = compression === 'xz' ? await xzReadableStream() : undefined;
  const bz2 = compression === 'bz2' ? (await import('unbzip2-stream')).default : undefined;
  // One chunk: the bytes already read (and, for a release, checked against its verified digest).
  const raw = Readable.from([bytes]);
  if (XzReadableStream) return Readable.fromWeb(new XzReadableStream(Readable.toWeb(raw) as WebReadableStream<Uint8Array>));
  if (bz2) {
    // unbzip2-stream is a classic stream: it emits data whether or not anyone listens yet. A
    // PassThrough holds it (pausing the decoder when full) until the extractor is piped in.
    const out = new PassThrough();
    const decoder = raw.pipe(bz2());
    raw.on('error', (err) => out.destroy(err));
    decoder.on('error', (err: Error) => out.destroy(err));
    decoder.pipe(out);
    return out;
  }
  return raw; // node-tar recognizes gzip by itself
}

async function unpack(file: string, bytes: Buffer, compression: Compression, cwd: string): Promise<void> {
  let refused: string | undefined;
  const unpacker = await tarExtractor({
    cwd,
    strict: true,
    preserveOwner: false,
    filter: (entryPath, entry) => {
      const e = entry as TarEntry;
      const why = escapeReason(entryPath, e.type, e.linkpath);
      if (why) {
        refused ??= `refusing tar entry ${JSON.stringify(entryPath)}: ${why}`;
        return false;
      }
      // node-tar creates the entry with the mode it reads here.
      if (typeof e.mode === 'number') e.mode &= 0o777;
      return true;
    },
  });
  const source = await decompressed(bytes, compression);
  await new Promise<void>((resolve, reject) => {
    let failure: unknown;
    const closed = new Promise<void>((done) => unpacker.on('close', () => done()));
    const failed = (err: unknown) => {
      if (failure !== undefined) return;
      failure = err;
      source.unpipe(unpacker);
      source.destroy();
      unpacker.end();
      // Let writes already under way settle (briefly) before the caller removes the directory.
      const settle = new Promise<void>((done) => setTimeout(done, 250).unref());
      void Promise.race([closed, settle]).then(() => reject(err));
    };
    unpacker.on('error', failed);
    source.on('error', failed);
    void closed.then(() => (failure === undefined ? resolve() : undefined));
    source.pipe(unpacker);
  });
  if (refused) throw new LabError(`${path.basename(file)}: ${refused}`, 'the tarball is not a plain source release; nothing was extracted');
}

export interface Extracted {
  /** The top-level source directory, e.g. `<destDir>/exim-4.96`. */
  sourceDir: string;
  compression: Compression;
  ms: number;
}

/**
 * Extracts `file` into `destDir` and returns the tarball's single top-level directory inside
 * it. An existing directory of the same name is replaced only once the new one is complete.
 */
export interface ExtractOptions {
  /**
   * The SHA-256 of the bytes whose signature was verified: the file is read once, from one
   * descriptor (no symlink followed), and unpacked from those bytes only if they have this
   * digest, so a tarball swapped or changed after the check is refused, never unpacked.
   */
  sha256?: string;
}

export async function extractTarball(file: string, destDir: string, opts: ExtractOptions = {}): Promise<string> {
  return (await extractTarballDetailed(file, destDir, opts)).sourceDir;
}

/** The tarball's bytes, read once; checked against the verified digest when there is one. */
async function readTarball(file: string, sha256?: string): Promise<{ bytes: Buffer; compression: Compression }> {
  const bytes = await readRegularFile(file).catch((err: unknown) => {
    throw new LabError(`cannot read ${file}: ${errorMessage(err)}`);
  });
  if (sha256 !== undefined) {
    const got = createHash('sha256').update(bytes).digest('hex');
    if (got !== sha256) {
      throw new LabError(
        `${path.basename(file)} changed after its signature was verified (sha256 ${got.slice(0, 16)}…, verified ${sha256.slice(0, 16)}…)`,
        'nothing was extracted; run labctl install again, which verifies the release anew',
      );
    }
  }
  const compression = compressionOf(bytes);
  if (!compression) throw new LabError(`${file}: not a tar archive compressed with xz, bzip2 or gzip`);
  return { bytes, compression };
}

export async function extractTarballDetailed(file: string, destDir: string, opts: ExtractOptions = {}): Promise<Extracted> {
  const started = performance.now();
  const dest = path.resolve(destDir);
  const { bytes, compression } = await readTarball(file, opts.sha256);
  await ensureDir(path.dirname(dest));
  const tmp = siblingTemp(dest, 'extract');
  await ensureDir(tmp, 0o755);
  const forget = onInterrupt(() => removePathSync(tmp));
  try {
    try {
      await unpack(file, bytes, compression, tmp);
    } catch (err) {
      if (err instanceof LabError) throw err;
      const raw = errorMessage(err).split('\n')[0];
      const why = /get_next_output|error code \d+/.test(raw) ? `the xz data is corrupt or truncated (${raw})` : raw;
      throw new LabError(`extracting ${path.basename(file)} failed: ${why}`);
    }
    const top = await fs.readdir(tmp, { withFileTypes: true });
    if (top.length !== 1 || !top[0].isDirectory()) {
      throw new LabError(
        `${path.basename(file)}: expected one top-level directory, found ${top.map((d) => d.name).join(', ') || 'nothing'}`,
      );
    }
    await refuseEscapingLinks(file, path.join(tmp, top[0].name));
    await ensureDir(dest);
    const target = path.join(dest, top[0].name);
    if (await exists(target)) {
      const old = siblingTemp(target, 'old');
      await movePath(target, old);
      await movePath(path.join(tmp, top[0].name), target);
      await removePath(old);
    } else {
      await movePath(path.join(tmp, top[0].name), target);
    }
    return { sourceDir: target, compression, ms: performance.now() - started };
  } finally {
    await removePath(tmp);
    forget();
  }
}
