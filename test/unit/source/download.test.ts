import { spawn } from 'node:child_process';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFile, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { LabError } from '../../../src/errors.js';
import {
  LISTING_CAP,
  TARBALL_CAP,
  download,
  fetchText,
  removeStaleParts,
  type DownloadProgress,
} from '../../../src/source/download.js';
import { exists } from '../../../src/system/files.js';
import { pendingInterruptCleanups } from '../../../src/system/interrupt.js';
import { run } from '../../../src/system/run.js';
import { scratch, serve } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
async function tmp(): Promise<string> {
  const s = await scratch('download');
  cleanups.push(s.cleanup);
  return s.dir;
}

const payload = Buffer.alloc(256 * 1024, 0);
for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >> 8)) & 0xff;

let release: (() => void) | undefined;

async function server() {
  const srv = await serve((req, res) => {
    const url = req.url ?? '/';
    if (url === '/exim4/exim-4.96.tar.xz') {
      res.writeHead(200, { 'content-length': payload.length });
      res.end(payload);
    } else if (url === '/slow') {
      // Half the body, then wait until the test has looked at the disk.
      res.writeHead(200, { 'content-length': payload.length });
      res.write(payload.subarray(0, payload.length / 2));
      release = () => res.end(payload.subarray(payload.length / 2));
    } else if (url === '/short') {
      res.writeHead(200, { 'content-length': payload.length });
      res.write(payload.subarray(0, 1000), () => res.destroy());
    } else if (url === '/stall') {
      res.writeHead(200, { 'content-length': payload.length });
      res.write(payload.subarray(0, 4096));
    } else if (url.startsWith('/announce/')) {
      // Announces a size and sends nothing: only the header can make the client stop.
      res.writeHead(200, { 'content-length': Number(url.slice(10)) });
      res.flushHeaders();
    } else if (url === '/endless') {
      // No Content-Length (chunked), and a body that never ends.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const more = () => {
        if (!res.destroyed && res.write(chunk)) setImmediate(more);
        else if (!res.destroyed) res.once('drain', more);
      };
      more();
    } else if (url === '/trickle') {
      // 4 KiB every 20 ms: slow enough to be interrupted half way.
      res.writeHead(200, { 'content-length': payload.length });
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed || sent >= payload.length) return clearInterval(timer);
        res.write(payload.subarray(sent, (sent += 4096)));
      }, 20);
      res.on('close', () => clearInterval(timer));
    } else if (url === '/hang') {
      // Never answers.
    } else if (url === '/loop') {
      res.writeHead(302, { location: '/loop' });
      res.end();
    } else if (url.startsWith('/hop/')) {
      const n = Number(url.slice(5));
      res.writeHead(301, { location: n > 1 ? `/hop/${n - 1}` : '/exim4/exim-4.96.tar.xz' });
      res.end();
    } else {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<h1>Not Found</h1>');
    }
  });
  cleanups.push(srv.close);
  return srv.url;
}

async function failure(p: Promise<unknown>): Promise<LabError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LabError);
  expect((err as Error).message).not.toContain('\n');
  return err as LabError;
}

describe('download over HTTP', () => {
  it('downloads the file whole and reports progress', async () => {
    const base = await server();
    const dir = await tmp();
    const dest = path.join(dir, 'cache', 'exim-4.96.tar.xz');
    const seen: DownloadProgress[] = [];
    const r = await download(`${base}/exim4/exim-4.96.tar.xz`, dest, { onProgress: (p) => seen.push(p) });
    expect(r.bytes).toBe(payload.length);
    expect((await readFile(dest)).equals(payload)).toBe(true);
    expect(await exists(`${dest}.part`)).toBe(false);
    expect(seen.at(-1)).toMatchObject({ received: payload.length, total: payload.length });
    expect(seen.length).toBeGreaterThan(1);
  });

  it('writes to .part and renames only when complete', async () => {
    const base = await server();
    const dir = await tmp();
    const dest = path.join(dir, 'exim-4.96.tar.xz');
    const pending = download(`${base}/slow`, dest);
    const part = `${dest}.part`;
    for (let i = 0; i < 200 && !(release && (await exists(part)) && (await stat(part)).size >= payload.length / 2); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect((await stat(part)).size).toBe(payload.length / 2);
    expect(await exists(dest)).toBe(false);
    release!();
    await pending;
    expect((await readFile(dest)).equals(payload)).toBe(true);
    expect(await exists(part)).toBe(false);
  });

  it('reports a 404 as one line naming the URL, and leaves no file', async () => {
    const base = await server();
    const dir = await tmp();
    const dest = path.join(dir, 'exim-9.99.tar.xz');
    const err = await failure(download(`${base}/exim4/exim-9.99.tar.xz`, dest));
    expect(err.message).toBe(`download failed: ${base}/exim4/exim-9.99.tar.xz: HTTP 404 Not Found`);
    expect(await readdir(dir)).toEqual([]);
  });

  it('times out when the server does not answer', async () => {
    const base = await server();
    const dir = await tmp();
    const started = performance.now();
    const err = await failure(download(`${base}/hang`, path.join(dir, 'x'), { timeoutMs: 300 }));
    expect(err.message).toBe(`download failed: ${base}/hang: no response within 0.3 s (timeout)`);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(await readdir(dir)).toEqual([]);
  });

  it('times out when the body stalls half way', async () => {
    const base = await server();
    const dir = await tmp();
    const err = await failure(download(`${base}/stall`, path.join(dir, 'x'), { timeoutMs: 300 }));
    expect(err.message).toBe(`download failed: ${base}/stall: no response within 0.3 s (timeout)`);
    expect(await readdir(dir)).toEqual([]);
  });

  it('follows up to 5 redirects and refuses a redirect loop', async () => {
    const base = await server();
    const dir = await tmp();
    const ok = await download(`${base}/hop/5`, path.join(dir, 'ok'));
    expect(ok.finalUrl).toBe(`${base}/exim4/exim-4.96.tar.xz`);
    expect(ok.bytes).toBe(payload.length);
    const six = await failure(download(`${base}/hop/6`, path.join(dir, 'six')));
    expect(six.message).toContain(`${base}/hop/6`);
    expect(six.message).toMatch(/too many redirects \(more than 5/);
    const loop = await failure(download(`${base}/loop`, path.join(dir, 'loop')));
    expect(loop.message).toMatch(new RegExp(`^download failed: ${base}/loop: too many redirects`));
    expect((await readdir(dir)).sort()).toEqual(['ok']);
  });

  it('fails on a body cut short and keeps no partial file', async () => {
    const base = await server();
    const dir = await tmp();
    const err = await failure(download(`${base}/short`, path.join(dir, 'short')));
    expect(err.message).toContain(`${base}/short`);
    expect(await readdir(dir)).toEqual([]);
  });

  it('reports a refused connection with the URL', async () => {
    const srv = await serve(() => {});
    const url = `${srv.url}/exim4/`;
    await srv.close();
    const err = await failure(fetchText(url));
    expect(err.message).toMatch(new RegExp(`^download failed: ${url.replace(/[.]/g, '\\.')}: connection refused`));
  });

  it('refuses a redirect from https to http', async () => {
    const dir = await tmp();
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
    const plain = await server();
    const tls = https.createServer({ key: await readFile(key), cert: await readFile(cert) }, (req, res) => {
      const target = req.url === '/same' ? '/final' : `${plain}/exim4/exim-4.96.tar.xz`;
      if (req.url === '/final') {
        res.writeHead(200);
        res.end('tls ok');
        return;
      }
      res.writeHead(302, { location: target });
      res.end();
    });
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => { tls.closeAllConnections(); tls.close(() => r()); }));
    const base = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
    const ca = await readFile(cert);
    // https to https is followed...
    expect(await fetchText(`${base}/same`, { ca })).toBe('tls ok');
    // ...https to http is not.
    const err = await failure(download(`${base}/down`, path.join(dir, 'x'), { ca }));
    expect(err.message).toBe(
      `download failed: ${base}/down: refusing a redirect from https to http (${plain}/exim4/exim-4.96.tar.xz)`,
    );
    expect(await exists(path.join(dir, 'x'))).toBe(false);
  });
});

describe('download from files', () => {
  it('copies file:// URLs and plain paths the same way', async () => {
    const dir = await tmp();
    const src = path.join(dir, 'exim-4.96.tar.xz');
    await writeFile(src, payload);
    const a = await download(pathToFileURL(src).href, path.join(dir, 'a', 'copy'));
    const b = await download(src, path.join(dir, 'b', 'copy'));
    expect(a.bytes).toBe(payload.length);
    expect(b.bytes).toBe(payload.length);
    expect((await readFile(path.join(dir, 'a', 'copy'))).equals(payload)).toBe(true);
    expect(await exists(path.join(dir, 'b', 'copy.part'))).toBe(false);
  });

  it('names a missing file', async () => {
    const dir = await tmp();
    const missing = path.join(dir, 'exim-4.96.tar.xz.asc');
    const err = await failure(download(missing, path.join(dir, 'out')));
    expect(err.message).toBe(`download failed: ${missing}: no such file`);
    expect(await exists(path.join(dir, 'out.part'))).toBe(false);
  });
});

describe('size caps', () => {
  it('are 1 MiB for a listing and 64 MiB for a tarball', () => {
    expect(LISTING_CAP).toBe(1024 * 1024);
    expect(TARBALL_CAP).toBe(64 * 1024 * 1024);
  });

  it('refuse a Content-Length above the cap before reading the body, and leave dest as it was', async () => {
    const base = await server();
    const dir = await tmp();
    const dest = path.join(dir, 'exim-4.96.tar.xz');
    await writeFile(dest, 'the previous download');
    const seen: DownloadProgress[] = [];
    const big = TARBALL_CAP + 1;
    const err = await failure(download(`${base}/announce/${big}`, dest, { onProgress: (p) => seen.push(p) }));
    expect(err.message).toBe(
      `download failed: ${base}/announce/${big}: Content-Length is 64.0 MiB (${big} bytes), over the 64.0 MiB cap`,
    );
    expect(err.hint).toMatch(/a few MiB/);
    expect(seen).toEqual([]);
    expect(await readFile(dest, 'utf8')).toBe('the previous download');
    expect(await readdir(dir)).toEqual(['exim-4.96.tar.xz']);
    // Exactly at the cap is allowed as far as the header goes (the server then sends nothing).
    const listing = await failure(fetchText(`${base}/announce/${LISTING_CAP + 1}`));
    expect(listing.message).toBe(
      `download failed: ${base}/announce/${LISTING_CAP + 1}: Content-Length is 1.0 MiB (${LISTING_CAP + 1} bytes), over the 1.0 MiB cap`,
    );
  });

  it('stop a body without Content-Length as soon as it passes the cap', async () => {
    const base = await server();
    const dir = await tmp();
    const dest = path.join(dir, 'exim-4.96.tar.xz');
    const err = await failure(download(`${base}/endless`, dest, { maxBytes: 256 * 1024 }));
    expect(err.message).toMatch(
      new RegExp(`^download failed: ${base}/endless: stopped after \\d+ bytes \\(no Content-Length\\), over the 256\\.0 KiB cap$`),
    );
    expect(Number(/after (\d+) bytes/.exec(err.message)![1])).toBeLessThanOrEqual(256 * 1024 + 64 * 1024);
    expect(await readdir(dir)).toEqual([]);
    // A listing stops at 1 MiB by default.
    const listing = await failure(fetchText(`${base}/endless`));
    expect(listing.message).toMatch(/stopped after \d+ bytes \(no Content-Length\), over the 1\.0 MiB cap$/);
  });

  it('check the size of a local file before copying it', async () => {
    const dir = await tmp();
    const src = path.join(dir, 'big.tar.xz');
    await writeFile(src, Buffer.alloc(2048));
    const dest = path.join(dir, 'out', 'exim-4.96.tar.xz');
    const err = await failure(download(pathToFileURL(src).href, dest, { maxBytes: 1024 }));
    expect(err.message).toBe(`download failed: ${pathToFileURL(src).href}: the file is 2.0 KiB (2048 bytes), over the 1.0 KiB cap`);
    expect(await readdir(path.join(dir, 'out'))).toEqual([]);
    const listing = await failure(fetchText(src, { maxBytes: 2047 }));
    expect(listing.message).toBe(`download failed: ${src}: the file is 2.0 KiB (2048 bytes), over the 2.0 KiB (2047 bytes) cap`);
    expect(await fetchText(src, { maxBytes: 2048 })).toHaveLength(2048);
  });
});

describe('.part files', () => {
  it('are created exclusively: an existing one is left alone and the download refused', async () => {
    const base = await server();
    const dir = await tmp();
    const dest = path.join(dir, 'exim-4.96.tar.xz');
    await writeFile(`${dest}.part`, 'another run is writing this');
    const err = await failure(download(`${base}/exim4/exim-4.96.tar.xz`, dest));
    expect(err.message).toBe(
      `download failed: ${base}/exim4/exim-4.96.tar.xz: ${dest}.part already exists (another labctl run is downloading it, or one was killed)`,
    );
    expect(err.hint).toBe(`wait for the other run to finish, or remove ${dest}.part`);
    expect(await readFile(`${dest}.part`, 'utf8')).toBe('another run is writing this');
    expect(await exists(dest)).toBe(false);
  });

  it('let only one of two simultaneous downloads of the same file write it', async () => {
    const base = await server();
    const dir = await tmp();
    const dest = path.join(dir, 'exim-4.96.tar.xz');
    const results = await Promise.allSettled([
      download(`${base}/exim4/exim-4.96.tar.xz`, dest),
      download(`${base}/exim4/exim-4.96.tar.xz`, dest),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((rejected.reason as Error).message).toMatch(/\.part already exists/);
    expect((await readFile(dest)).equals(payload)).toBe(true);
    expect(await readdir(dir)).toEqual(['exim-4.96.tar.xz']);
  });

  it('leave no interrupt cleanup registered once a download is over', async () => {
    const base = await server();
    const dir = await tmp();
    await download(`${base}/exim4/exim-4.96.tar.xz`, path.join(dir, 'ok'));
    expect((await failure(download(`${base}/exim4/exim-9.99.tar.xz`, path.join(dir, 'missing')))).message).toMatch(/404/);
    expect(pendingInterruptCleanups()).toBe(0);
  });

  it('removeStaleParts removes old .part files and keeps fresh ones and everything else', async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, 'exim-4.96.tar.xz.part'), 'killed last week');
    await writeFile(path.join(dir, 'exim-4.96.tar.xz.asc.part'), 'being written now');
    await writeFile(path.join(dir, 'exim-4.96.tar.xz'), 'complete');
    const week = new Date(Date.now() - 7 * 86400_000);
    await utimes(path.join(dir, 'exim-4.96.tar.xz.part'), week, week);
    expect(await removeStaleParts(dir)).toEqual(['exim-4.96.tar.xz.part']);
    expect((await readdir(dir)).sort()).toEqual(['exim-4.96.tar.xz', 'exim-4.96.tar.xz.asc.part']);
    expect(await removeStaleParts(dir, { olderThanMs: 0 })).toEqual(['exim-4.96.tar.xz.asc.part']);
    expect(await readdir(dir)).toEqual(['exim-4.96.tar.xz']);
    expect(await removeStaleParts(path.join(dir, 'no-such-cache'))).toEqual([]);
  });

  it('is removed when the process gets SIGTERM half way through a slow download', async () => {
    const repo = fileURLToPath(new URL('../../../', import.meta.url));
    // vite-node comes with vitest: the child imports src/ as this test does, with no build.
    const viteNode = path.join(repo, 'node_modules', 'vite-node', 'vite-node.mjs');
    expect(await exists(viteNode), viteNode).toBe(true);
    const base = await server();
    const dir = await tmp();
    const dest = path.join(dir, 'cache', 'exim-4.96.tar.xz');
    const script = path.join(dir, 'child.ts');
    await writeFile(
      script,
      [
        `import { installInterruptHandlers } from ${JSON.stringify(path.join(repo, 'src/system/interrupt.ts'))};`,
        `import { download } from ${JSON.stringify(path.join(repo, 'src/source/download.ts'))};`,
        'installInterruptHandlers();',
        'await download(process.env.URL!, process.env.DEST!);',
        "console.log('finished');",
      ].join('\n'),
    );
    const child = spawn(process.execPath, [viteNode, script], {
      cwd: repo,
      env: { ...process.env, URL: `${base}/trickle`, DEST: dest },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    const part = `${dest}.part`;
    let size = 0;
    for (let i = 0; i < 1000 && child.exitCode === null && size < 16 * 1024; i++) {
      await new Promise((r) => setTimeout(r, 20));
      size = (await stat(part).catch(() => undefined))?.size ?? 0;
    }
    expect(size, output).toBeGreaterThanOrEqual(16 * 1024);
    expect(size).toBeLessThan(payload.length);
    child.kill('SIGTERM');
    expect(await ended, output).toEqual({ code: null, signal: 'SIGTERM' });
    expect(output).not.toContain('finished');
    expect(await readdir(path.join(dir, 'cache'))).toEqual([]);
  });
});
