/**
 * Getting one file from a mirror (opened by ./open.ts: http(s) with a timeout and bounded
 * redirects, or a file:// URL or plain path). The file is written to `<dest>.part` and renamed
 * to `dest` only once complete, so `dest` is never a partial download. Every failure is one
 * LabError line that names the URL.
 *
 * A mirror is not trusted to be small or alone: a size cap stops a response that never ends,
 * the `.part` file is created exclusively so two runs cannot interleave their bytes, and an
 * interrupted run removes its `.part` (see system/interrupt.ts).
 */
import { once } from 'node:events';
import { promises as fs, type WriteStream } from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ensureDir, exclusiveWriteStream, movePath, removePath, removePathSync } from '../system/files.js';
import { onInterrupt } from '../system/interrupt.js';
import { DEFAULT_TIMEOUT_MS, errorFor, fail, open, overCap, type DownloadOptions, type Opened, type Validators } from './open.js';

export { DEFAULT_TIMEOUT_MS, isRemote, localPath, MAX_REDIRECTS, type DownloadOptions, type Validators } from './open.js';

/** A directory listing is a few KiB; anything near this is not a listing. */
export const LISTING_CAP = 1024 * 1024;
/** An Exim release tarball is about 2 MiB; the cap leaves ample room and stops an endless body. */
export const TARBALL_CAP = 64 * 1024 * 1024;

export type { DownloadProgress } from './progress.js';

export interface DownloadResult {
  /** The URL or path asked for. */
  source: string;
  /** Where the bytes came from after redirects. */
  finalUrl: string;
  dest: string;
  bytes: number;
  ms: number;
}

/**
 * Creates `part` exclusively. An existing one belongs to another run that is downloading the
 * same file, or was left by a run that was killed; either way it is not ours to write into.
 */
async function claimPart(source: string, part: string): Promise<WriteStream> {
  const out = exclusiveWriteStream(part);
  try {
    await once(out, 'open');
    return out;
  } catch (err) {
    out.destroy();
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw fail(
        source,
        `${part} already exists (another labctl run is downloading it, or one was killed)`,
        `wait for the other run to finish, or remove ${part}`,
      );
    }
    throw fail(source, `cannot create ${part}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/**
 * Removes `*.part` files left in `dir` by runs that were killed, and returns their names. A file
 * written to within `olderThanMs` may be another run's download in progress and is kept: an
 * active download writes at least once per idle timeout, or gives up.
 */
export async function removeStaleParts(dir: string, opts: { olderThanMs?: number } = {}): Promise<string[]> {
  const olderThanMs = opts.olderThanMs ?? DEFAULT_TIMEOUT_MS;
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of names.filter((n) => n.endsWith('.part')).sort()) {
    const file = path.join(dir, name);
    const st = await fs.lstat(file).catch(() => undefined);
    if (!st?.isFile() || Date.now() - st.mtimeMs < olderThanMs) continue;
    await removePath(file);
    removed.push(name);
  }
  return removed;
}

/**
 * Downloads (or copies) `source` to `dest` through `<dest>.part`, at most `opts.maxBytes`
 * (TARBALL_CAP) bytes. On any failure, and on SIGINT/SIGTERM once the CLI has installed the
 * interrupt handlers, the partial file is removed and `dest` is left as it was.
 */
export async function download(source: string, dest: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const started = performance.now();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const cap = opts.maxBytes ?? TARBALL_CAP;
  const part = `${dest}.part`;
  await ensureDir(path.dirname(dest));
  const out = await claimPart(source, part);
  const forget = onInterrupt(() => removePathSync(part));
  let received = 0;
  let opened: Opened | undefined;
  try {
    opened = await open(source, opts, cap);
    const { total, finalUrl } = opened;
    opts.onProgress?.({ url: source, received, total });
    const count = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        received += chunk.length;
        const tooMuch = overCap(source, received, cap, total);
        if (tooMuch) return cb(tooMuch);
        opts.onProgress?.({ url: finalUrl, received, total });
        cb(null, chunk);
      },
    });
    await pipeline(opened.stream, count, out);
    if (total !== undefined && received !== total) {
      throw fail(source, `incomplete: received ${received} of ${total} bytes`);
    }
    await movePath(part, dest);
    return { source, finalUrl, dest, bytes: received, ms: performance.now() - started };
  } catch (err) {
    opened?.stream.destroy();
    out.destroy();
    await removePath(part);
    throw errorFor(source, err, timeoutMs);
  } finally {
    forget();
  }
}

/** Reads a small text resource (a directory listing) into memory, at most `opts.maxBytes` (LISTING_CAP). */
export async function fetchText(source: string, opts: DownloadOptions = {}): Promise<string> {
  return (await fetchTextIfChanged(source, opts)).text ?? '';
}

/**
 * fetchText, asking only for a change when `opts.validators` holds what an earlier read returned:
 * `text` is undefined when the server answered 304 Not Modified. Returns the new validators.
 */
export async function fetchTextIfChanged(source: string, opts: DownloadOptions = {}): Promise<{ text?: string; validators?: Validators }> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const cap = opts.maxBytes ?? LISTING_CAP;
  let opened: Opened | undefined;
  try {
    opened = await open(source, opts, cap);
    if (opened.notModified) return { validators: opened.validators };
    const chunks: Buffer[] = [];
    let received = 0;
    for await (const chunk of opened.stream) {
      received += (chunk as Buffer).length;
      const tooMuch = overCap(source, received, cap, opened.total);
      if (tooMuch) throw tooMuch;
      chunks.push(chunk as Buffer);
    }
    return { text: Buffer.concat(chunks).toString('utf8'), validators: opened.validators };
  } catch (err) {
    opened?.stream.destroy();
    throw errorFor(source, err, timeoutMs);
  }
}
