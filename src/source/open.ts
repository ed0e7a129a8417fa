/**
 * Opening a file of a mirror for reading, the part download() and fetchText() share: an http(s)
 * GET with a timeout, bounded redirects (never from https down to http) and conditional
 * requests, or a local file or file:// URL; a size cap checked on the announced length and on
 * every byte that arrives; and every failure as one LabError line naming the URL.
 */
import type http from 'node:http';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { LabError } from '../errors.js';
import { httpGet } from '../system/net.js';
import { formatBytes, type DownloadProgress } from './progress.js';

export const DEFAULT_TIMEOUT_MS = 30_000;
export const MAX_REDIRECTS = 5;

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

/** True for http:// and https:// locations; everything else is a local file or directory. */
export const isRemote = (location: string) => /^https?:\/\//i.test(location);

/** The file system path of a file:// URL or plain path. */
export function localPath(location: string): string {
  return /^file:/i.test(location) ? fileURLToPath(location) : path.resolve(location);
}

export interface Opened {
  stream: Readable;
  total?: number;
  finalUrl: string;
  /** A 304 to a conditional request: the earlier copy is current, the stream is empty. */
  notModified?: boolean;
  validators?: Validators;
}

export const fail = (url: string, reason: string, hint?: string) => new LabError(`download failed: ${url}: ${reason}`, hint);

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

export function open(source: string, opts: DownloadOptions, cap: number): Promise<Opened> {
  return isRemote(source) ? openHttp(source, opts, cap) : openLocal(source, cap);
}

/**
 * The error once more than `cap` bytes have arrived, whatever Content-Length said: a server may
 * send none, or one that lies, and a local file may grow while it is read.
 */
export function overCap(source: string, received: number, cap: number, total: number | undefined): LabError | undefined {
  if (received <= cap) return undefined;
  const announced = total === undefined ? 'no Content-Length' : `announced ${total} bytes`;
  return tooLarge(source, `stopped after ${received} bytes (${announced})`, cap);
}

export function errorFor(source: string, err: unknown, timeoutMs: number): LabError {
  if (err instanceof LabError) return err;
  const e = err as NodeJS.ErrnoException;
  if (isRemote(source)) return fail(source, networkReason(e, new URL(source), timeoutMs));
  return fail(source, e.message.split('\n')[0]);
}
