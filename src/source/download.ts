/**
 * Getting one file from a mirror: http(s) GET with a timeout and bounded redirects, or a copy
 * from a file:// URL or plain path. The file is written to `<dest>.part` and renamed to `dest`
 * only once complete, so `dest` is never a partial download. Every failure is one LabError
 * line that names the URL.
 *
 * A mirror is not trusted to be small or alone: a size cap stops a response that never ends,
 * the `.part` file is created exclusively so two runs cannot interleave their bytes, and an
 * interrupted run removes its `.part` (see system/interrupt.ts).
 */
import { once } from 'node:events';
import type http from 'node:http';
import { createReadStream, promises as fs, type WriteStream } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { LabError } from '../errors.js';
import { ensureDir, exclusiveWriteStream, movePath, removePath, removePathSync } from '../system/files.js';
import { onInterrupt } from '../system/interrupt.js';
import { formatBytes, type DownloadProgress } from './progress.js';
import { httpGet } from '../system/net.js';

export const DEFAULT_TIMEOUT_MS = 30_000;
export const MAX_REDIRECTS = 5;
/** A directory listing is a few KiB; anything near this is not a listing. */
export const LISTING_CAP = 1024 * 1024;
/** An Exim release tarball is about 2 MiB; the cap leaves ample room and stops an endless body. */
export const TARBALL_CAP = 64 * 1024 * 1024;

export type { DownloadProgress } from './progress.js';

export interface DownloadOptions {
  /** Give up when nothing arrives for this long (connecting, waiting, or mid-body). */
  timeoutMs?: number;
  maxRedirects?: number;
  onProgress?: (p: DownloadProgress) => void;
  /** CA certificates (PEM) to trust for https instead of the built-in ones (a lab's own mirror, tests). */
  ca?: string | Buffer;
  /** The most bytes accepted; TARBALL_CAP for download(), LISTING_CAP for fetchText(). */
  maxBytes?: number;
  /** What an earlier read of the same URL returned, to ask only for a change (fetchText). */
  validators?: Validators;
}

/** An HTTP response's validators, sent back as If-None-Match and If-Modified-Since. */
export interface Validators {
  etag?: string;
  lastModified?: string;
}

export interface DownloadResult {
  /** The URL or path asked for. */
  source: string;
  /** Where the bytes came from after redirects. */
  finalUrl: string;
  dest: string;
  bytes: number;
  ms: number;
}

/** True for http:// and https:// locations; everything else is a local file or directory. */
export const isRemote = (location: string) => /^https?:\/\//i.test(location);

/** The file system path of a file:// URL or plain path. */
export function localPath(location: string): string {
  return /^file:/i.test(location) ? fileURLToPath(location) : path.resolve(location);
}

interface Opened {
  stream: Readable;
  total?: number;
  finalUrl: string;
  /** A 304 to a conditional request: the earlier copy is current, the stream is empty. */
  notModified?: boolean;
  validators?: Validators;
}

const fail = (url: string, reason: string, hint?: string) => new LabError(`download failed: ${url}: ${reason}`, hint);

const sizeHint = 'an Exim release is a few MiB and a listing a few KiB: the server is not sending what labctl asked for';

const sized = (n: number) => `${formatBytes(n)} (${n} bytes)`;

/** "64.0 MiB", or "2.0 KiB (2047 bytes)" where the short form would round. */
function capText(cap: number): string {
  const short = formatBytes(cap);
  const [figure, unit] = short.split(' ');
  const scales: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };
  const scale = scales[unit] ?? 0;
  return Number(figure) * scale === cap ? short : sized(cap);
}

/** The error for a body over the cap; `size` says what was announced or how far it got. */
const tooLarge = (url: string, size: string, cap: number) => fail(url, `${size}, over the ${capText(cap)} cap`, sizeHint);

/** Turns a socket or DNS error into a short reason. */
function networkReason(err: NodeJS.ErrnoException, url: URL, timeoutMs: number): string {
  switch (err.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host ${url.hostname} not found (DNS)`;
    case 'ECONNREFUSED':
      return `connection refused by ${url.host}`;
    case 'ECONNRESET':
      return 'connection reset by the server';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${url.hostname}`;
    case 'ETIMEDOUT':
    case 'LABCTL_TIMEOUT':
      return `no response within ${timeoutMs / 1000} s (timeout)`;
    case 'ECONNABORTED':
    case 'ERR_STREAM_PREMATURE_CLOSE':
      return 'connection closed before the download completed';
    default:
      if (err.code && /CERT|SSL|TLS/.test(err.code)) return `TLS error: ${err.message}`;
      return err.message.split('\n')[0] || String(err.code ?? 'unknown error');
  }
}

function timeoutError(): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error('timeout');
  e.code = 'LABCTL_TIMEOUT';
  return e;
}

/**
 * One GET, following redirects; resolves with the body stream of a 200 response. A
 * Content-Length above `cap` is refused before a byte of the body is read.
 */
async function openHttp(start: string, opts: DownloadOptions, cap: number): Promise<Opened> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxRedirects = opts.maxRedirects ?? MAX_REDIRECTS;
  let current = new URL(start);
  for (let redirects = 0; ; redirects++) {
    const url = current;
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const headers: Record<string, string> = { 'user-agent': 'labctl', 'accept-encoding': 'identity' };
      if (opts.validators?.etag) headers['if-none-match'] = opts.validators.etag;
      if (opts.validators?.lastModified) headers['if-modified-since'] = opts.validators.lastModified;
      // One fresh connection per request (agent: false): a handful of files, and no idle
      // keep-alive sockets collecting timeout listeners or holding the process open.
      const req = httpGet(url, { agent: false, timeout: timeoutMs, headers, ...(opts.ca ? { ca: opts.ca } : {}) });
      req.on('response', resolve);
      req.on('timeout', () => req.destroy(timeoutError()));
      req.on('error', (err: NodeJS.ErrnoException) => reject(fail(url.href, networkReason(err, url, timeoutMs))));
    });
    const status = res.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(status)) {
      res.resume();
      const location = res.headers.location;
      if (!location) throw fail(url.href, `HTTP ${status} redirect without a Location header`);
      if (redirects >= maxRedirects) {
        throw fail(start, `too many redirects (more than ${maxRedirects}; last to ${new URL(location, url).href})`);
      }
      const next = new URL(location, url);
      if (url.protocol === 'https:' && next.protocol !== 'https:') {
        throw fail(url.href, `refusing a redirect from https to ${next.protocol.replace(':', '')} (${next.href})`);
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw fail(url.href, `refusing a redirect to ${next.href}`);
      }
      current = next;
      continue;
    }
    if (status === 304 && (opts.validators?.etag || opts.validators?.lastModified)) {
      res.resume();
      return { stream: Readable.from([]), total: 0, finalUrl: url.href, notModified: true, validators: opts.validators };
    }
    if (status !== 200) {
      res.resume();
      const hint = status === 404 ? 'check --mirror and --version; the mirror lists what it has' : undefined;
      throw fail(url.href, `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`, hint);
    }
    const length = Number(res.headers['content-length']);
    const total = res.headers['content-length'] !== undefined && Number.isFinite(length) && length >= 0 ? length : undefined;
    if (total !== undefined && total > cap) {
      res.destroy();
      throw tooLarge(start, `Content-Length is ${sized(total)}`, cap);
    }
    // The socket's idle timeout stays armed while the body streams.
    res.socket.setTimeout(timeoutMs, () => res.destroy(timeoutError()));
    const header = (name: string) => (typeof res.headers[name] === 'string' ? (res.headers[name] as string) : undefined);
    const validators = { etag: header('etag'), lastModified: header('last-modified') };
    return { stream: res, total, finalUrl: url.href, validators };
  }
}

async function openLocal(location: string, cap: number): Promise<Opened> {
  const file = localPath(location);
  let size: number;
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) throw fail(location, 'not a regular file');
    size = st.size;
  } catch (err) {
    if (err instanceof LabError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw fail(location, code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message);
  }
  if (size > cap) throw tooLarge(location, `the file is ${sized(size)}`, cap);
  return { stream: createReadStream(file), total: size, finalUrl: file };
}

function open(source: string, opts: DownloadOptions, cap: number): Promise<Opened> {
  return isRemote(source) ? openHttp(source, opts, cap) : openLocal(source, cap);
}

/**
 * The error once more than `cap` bytes have arrived, whatever Content-Length said: a server may
 * send none, or one that lies, and a local file may grow while it is read.
 */
function overCap(source: string, received: number, cap: number, total: number | undefined): LabError | undefined {
  if (received <= cap) return undefined;
  const announced = total === undefined ? 'no Content-Length' : `announced ${total} bytes`;
  return tooLarge(source, `stopped after ${received} bytes (${announced})`, cap);
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

function errorFor(source: string, err: unknown, timeoutMs: number): LabError {
  if (err instanceof LabError) return err;
  const e = err as NodeJS.ErrnoException;
  if (isRemote(source)) return fail(source, networkReason(e, new URL(source), timeoutMs));
  return fail(source, e.message.split('\n')[0]);
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
