/**
 * Unpacks a release tarball with node-tar. node-tar reads gzip itself; xz (xz-decompress,
 * WebAssembly) and bzip2 (unbzip2-stream) are decompressed as streams in front of it. Entries
 * that would land outside the target (absolute paths, `..`, links pointing out) are refused,
 * not silently rewritten. Everything is unpacked into a temporary directory beside the target
 * and moved into place only on success, so a failure leaves nothing behind.
 */
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import * as tar from 'tar';
import bz2 from 'unbzip2-stream';
import * as xzModule from 'xz-decompress';
import { LabError, errorMessage } from '../errors.js';
import { exists, siblingTemp } from '../system/files.js';

export type Compression = 'xz' | 'bz2' | 'gz' | 'none';

// xz-decompress is CommonJS: under NodeNext its exports arrive as the default export.
type XzCtor = new (compressed: WebReadableStream<Uint8Array>) => WebReadableStream<Uint8Array>;
const XzReadableStream: XzCtor =
  (xzModule as unknown as { default?: { XzReadableStream: XzCtor } }).default?.XzReadableStream ??
  (xzModule as unknown as { XzReadableStream: XzCtor }).XzReadableStream;

/** Detects the compression from the first bytes of the file. */
export async function detectCompression(file: string): Promise<Compression> {
  const fh = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    const b = head.subarray(0, bytesRead);
    if (b.length >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
    if (b.length >= 3 && b.subarray(0, 3).toString('latin1') === 'BZh') return 'bz2';
    if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gz';
    if (b.length >= 262 && b.subarray(257, 262).toString('latin1') === 'ustar') return 'none';
  } finally {
    await fh.close();
  }
  throw new LabError(`${file}: not a tar archive compressed with xz, bzip2 or gzip`);
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

function decompressed(file: string, compression: Compression): Readable {
  const raw = createReadStream(file);
  switch (compression) {
    case 'xz':
      return Readable.fromWeb(new XzReadableStream(Readable.toWeb(raw) as WebReadableStream<Uint8Array>));
    case 'bz2': {
      const out = raw.pipe(bz2()) as unknown as Readable;
      raw.on('error', (err) => out.emit('error', err));
      return out;
    }
    default:
      return raw; // node-tar recognizes gzip by itself
  }
}

async function unpack(file: string, compression: Compression, cwd: string): Promise<void> {
  let refused: string | undefined;
  const source = decompressed(file, compression);
  const unpacker = tar.x({
    cwd,
    strict: true,
    preserveOwner: false,
    filter: (entryPath, entry) => {
      const e = entry as tar.ReadEntry;
      const why = escapeReason(entryPath, e.type, e.linkpath);
      if (why) {
        refused ??= `refusing tar entry ${JSON.stringify(entryPath)}: ${why}`;
        return false;
      }
      return true;
    },
  });
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
export async function extractTarball(file: string, destDir: string): Promise<string> {
  return (await extractTarballDetailed(file, destDir)).sourceDir;
}

export async function extractTarballDetailed(file: string, destDir: string): Promise<Extracted> {
  const started = performance.now();
  const dest = path.resolve(destDir);
  const compression = await detectCompression(file);
  await fs.mkdir(path.dirname(dest), { recursive: true });
  const tmp = siblingTemp(dest, 'extract');
  await fs.mkdir(tmp, { mode: 0o755 });
  try {
    try {
      await unpack(file, compression, tmp);
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
    await fs.mkdir(dest, { recursive: true });
    const target = path.join(dest, top[0].name);
    if (await exists(target)) {
      const old = siblingTemp(target, 'old');
      await fs.rename(target, old);
      await fs.rename(path.join(tmp, top[0].name), target);
      await fs.rm(old, { recursive: true, force: true });
    } else {
      await fs.rename(path.join(tmp, top[0].name), target);
    }
    return { sourceDir: target, compression, ms: performance.now() - started };
  } finally {
    await fs.rm(tmp, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  }
}
