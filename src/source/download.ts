/**
 * Getting one file from a mirror: http(s) GET with a timeout and bounded redirects, or a copy
 * from a file:// URL or plain path. The file is written to `<dest>.part` and renamed to `dest`
 * only once complete, so `dest` is never a partial download. Every failure is one LabError
 * line that names the URL.
 */
import http from 'node:http';
import https from 'node:https';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { LabError } from '../errors.js';

export const DEFAULT_TIMEOUT_MS = 30_000;
export const MAX_REDIRECTS = 5;

export interface DownloadProgress {
  url: string;
  received: number;
  /** From Content-Length or the file size; undefined when the server does not say. */
  total?: number;
}

export interface DownloadOptions {
  /** Give up when nothing arrives for this long (connecting, waiting, or mid-body). */
  timeoutMs?: number;
  maxRedirects?: number;
  onProgress?: (p: DownloadProgress) => void;
  /** CA certificates (PEM) to trust for https instead of the built-in ones (a lab's own mirror, tests). */
  ca?: string | Buffer;
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
}

const fail = (url: string, reason: string, hint?: string) => new LabError(`download failed: ${url}: ${reason}`, hint);

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

/** One GET, following redirects; resolves with the body stream of a 200 response. */
async function openHttp(start: string, opts: DownloadOptions): Promise<Opened> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxRedirects = opts.maxRedirects ?? MAX_REDIRECTS;
  let current = new URL(start);
  for (let redirects = 0; ; redirects++) {
    const url = current;
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const headers = { 'user-agent': 'labctl', 'accept-encoding': 'identity' };
      // One fresh connection per request (agent: false): a handful of files, and no idle
      // keep-alive sockets collecting timeout listeners or holding the process open.
      const req =
        url.protocol === 'https:'
          ? https.get(url, { agent: false, timeout: timeoutMs, headers, ...(opts.ca ? { ca: opts.ca } : {}) })
          : http.get(url, { agent: false, timeout: timeoutMs, headers });
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
    if (status !== 200) {
      res.resume();
      const hint = status === 404 ? 'check --mirror and --version; the mirror lists what it has' : undefined;
      throw fail(url.href, `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`, hint);
    }
    // The socket's idle timeout stays armed while the body streams.
    res.socket.setTimeout(timeoutMs, () => res.destroy(timeoutError()));
    const length = Number(res.headers['content-length']);
    return { stream: res, total: Number.isFinite(length) && length >= 0 ? length : undefined, finalUrl: url.href };
  }
}

async function openLocal(location: string): Promise<Opened> {
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
  return { stream: createReadStream(file), total: size, finalUrl: file };
}

function open(source: string, opts: DownloadOptions): Promise<Opened> {
  return isRemote(source) ? openHttp(source, opts) : openLocal(source);
}

function errorFor(source: string, err: unknown, timeoutMs: number): LabError {
  if (err instanceof LabError) return err;
  const e = err as NodeJS.ErrnoException;
  if (isRemote(source)) return fail(source, networkReason(e, new URL(source), timeoutMs));
  return fail(source, e.message.split('\n')[0]);
}

/**
 * Downloads (or copies) `source` to `dest` through `<dest>.part`. On any failure the partial
 * file is removed and `dest` is left as it was.
 */
export async function download(source: string, dest: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const started = performance.now();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const part = `${dest}.part`;
  await fs.mkdir(path.dirname(dest), { recursive: true });
  let received = 0;
  let opened: Opened | undefined;
  try {
    opened = await open(source, opts);
    const { total, finalUrl } = opened;
    opts.onProgress?.({ url: source, received, total });
    const count = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        received += chunk.length;
        opts.onProgress?.({ url: finalUrl, received, total });
        cb(null, chunk);
      },
    });
    await pipeline(opened.stream, count, createWriteStream(part));
    if (total !== undefined && received !== total) {
      throw fail(source, `incomplete: received ${received} of ${total} bytes`);
    }
    await fs.rename(part, dest);
    return { source, finalUrl, dest, bytes: received, ms: performance.now() - started };
  } catch (err) {
    opened?.stream.destroy();
    await fs.rm(part, { force: true });
    throw errorFor(source, err, timeoutMs);
  }
}

/** Reads a small text resource (a directory listing) into memory. */
export async function fetchText(source: string, opts: DownloadOptions = {}): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let opened: Opened | undefined;
  try {
    opened = await open(source, opts);
    const chunks: Buffer[] = [];
    for await (const chunk of opened.stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  } catch (err) {
    opened?.stream.destroy();
    throw errorFor(source, err, timeoutMs);
  }
}
