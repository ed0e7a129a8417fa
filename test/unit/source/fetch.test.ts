import { createReadStream } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fetchVerifiedSource, planSource } from '../../../src/source/fetch.js';
import { SignatureError } from '../../../src/source/signature.js';
import { exists } from '../../../src/system/files.js';
import { run } from '../../../src/system/run.js';
import { at, makeKey, scratch, serve, signDetached, type TestKey } from './helpers.js';

const NOW = at('2024-03-01T12:00:00Z');
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

let key: TestKey;
beforeAll(async () => {
  key = await makeKey('Jo Maintainer');
});

/** A mirror laid out like the official tree, with real (small) tarballs signed by `key`. */
async function makeMirror(): Promise<{ root: string; exim4: string; requests: string[]; url: string }> {
  const s = await scratch('fetch');
  cleanups.push(s.cleanup);
  const root = path.join(s.dir, 'mirror');
  const exim4 = path.join(root, 'exim4');
  await mkdir(path.join(exim4, 'fixes'), { recursive: true });
  const tree = path.join(s.dir, 'tree');
  for (const v of ['4.97', '4.97.1']) {
    await mkdir(path.join(tree, `exim-${v}`, 'src'), { recursive: true });
    await writeFile(path.join(tree, `exim-${v}`, 'src', 'EDITME'), `# Exim ${v}\n`);
  }
  const release = async (dir: string, v: string, format: 'xz' | 'gz') => {
    const file = path.join(dir, `exim-${v}.tar.${format}`);
    await run('tar', [format === 'xz' ? '-cJf' : '-czf', file, '-C', tree, `exim-${v}`]);
    await writeFile(`${file}.asc`, await signDetached(await readFile(file), key.privateKey, at('2023-05-01T00:00:00Z')));
  };
  await release(exim4, '4.97', 'xz');
  await release(exim4, '4.97', 'gz');
  await release(path.join(exim4, 'fixes'), '4.97.1', 'gz');
  await release(path.join(exim4, 'fixes'), '4.97.1', 'xz');
  await writeFile(path.join(root, 'Exim-Maintainers-Keyring.asc'), key.publicArmored);

  // A static file server with python-style listings for directories.
  const requests: string[] = [];
  const srv = await serve(async (req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(rel);
    const p = path.join(root, rel);
    try {
      if (rel.endsWith('/')) {
        const names = await readdir(p);
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(`<ul>${names.map((n) => `<li><a href="${n}">${n}</a></li>`).join('')}</ul>`);
      } else {
        await readFile(p);
        res.writeHead(200);
        createReadStream(p).pipe(res);
      }
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  cleanups.push(srv.close);
  return { root, exim4, requests, url: `${srv.url}/exim4/` };
}

async function cacheDir(): Promise<string> {
  const s = await scratch('cache');
  cleanups.push(s.cleanup);
  return path.join(s.dir, 'cache');
}

describe('planSource', () => {
  it('reports URLs and cache paths without downloading', async () => {
    const m = await makeMirror();
    const cache = await cacheDir();
    const plan = await planSource({ mirror: m.url, cacheDir: cache });
    expect(plan.version).toBe('4.97.1');
    expect(plan.format).toBe('xz');
    expect(plan.tarballUrl).toBe(`${m.url}fixes/exim-4.97.1.tar.xz`);
    expect(plan.ascUrl).toBe(`${m.url}fixes/exim-4.97.1.tar.xz.asc`);
    expect(plan.keyringUrl).toBe(`${m.url.replace(/exim4\/$/, '')}Exim-Maintainers-Keyring.asc`);
    expect(plan.tarballPath).toBe(path.join(cache, 'exim-4.97.1.tar.xz'));
    expect(plan.inCache).toEqual({ tarball: false, asc: false, keyring: false });
    expect(await exists(cache)).toBe(false);
    expect(m.requests.sort()).toEqual(['/exim4/', '/exim4/fixes/']);
  });
});

describe('fetchVerifiedSource', () => {
  it('downloads and verifies, then reuses the cache without downloading again', async () => {
    const m = await makeMirror();
    const cache = await cacheDir();
    const lines: string[] = [];
    const opts = { mirror: m.url, cacheDir: cache, trusted: [key.fingerprint], now: NOW, log: (l: string) => lines.push(l) };
    const first = await fetchVerifiedSource(opts);
    expect(first).toMatchObject({ version: '4.97.1', format: 'xz', cached: false });
    expect(first.signature.primaryFingerprint).toBe(key.fingerprint);
    expect(first.signature.created).toBe('2023-05-01T00:00:00Z');
    expect(first.downloaded).toEqual([first.keyringUrl, first.ascUrl, first.tarballUrl]);
    expect((await readFile(first.tarballPath)).equals(await readFile(path.join(m.exim4, 'fixes', 'exim-4.97.1.tar.xz')))).toBe(true);
    expect((await readdir(cache)).sort()).toEqual(['Exim-Maintainers-Keyring.asc', 'exim-4.97.1.tar.xz', 'exim-4.97.1.tar.xz.asc']);

    const before = m.requests.length;
    const second = await fetchVerifiedSource(opts);
    expect(second.cached).toBe(true);
    expect(second.downloaded).toEqual([]);
    expect(m.requests.slice(before).filter((r) => !r.endsWith('/'))).toEqual([]);
    expect(lines.some((l) => l.startsWith('using cached'))).toBe(true);
  });

  it('honours --version and the format preference', async () => {
    const m = await makeMirror();
    const r = await fetchVerifiedSource({ mirror: m.url, version: '4.97', cacheDir: await cacheDir(), trusted: [key.fingerprint], now: NOW });
    expect(r.tarballUrl).toBe(`${m.url}exim-4.97.tar.xz`);
  });

  it('deletes a cached tarball whose signature no longer verifies and throws', async () => {
    const m = await makeMirror();
    const cache = await cacheDir();
    const opts = { mirror: m.url, cacheDir: cache, trusted: [key.fingerprint], now: NOW };
    const first = await fetchVerifiedSource(opts);
    const bytes = await readFile(first.tarballPath);
    bytes[100] ^= 0xff;
    await writeFile(first.tarballPath, bytes);
    const err = await fetchVerifiedSource(opts).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SignatureError);
    expect((err as SignatureError).reason).toBe('digest');
    expect((err as SignatureError).hint).toMatch(/cached tarball and \.asc were deleted/);
    expect(await exists(first.tarballPath)).toBe(false);
    expect(await exists(first.ascPath)).toBe(false);
    // The next run downloads afresh and succeeds.
    expect((await fetchVerifiedSource(opts)).cached).toBe(false);
  });

  it('refuses a tampered mirror and keeps nothing of it', async () => {
    const m = await makeMirror();
    const cache = await cacheDir();
    const file = path.join(m.exim4, 'fixes', 'exim-4.97.1.tar.xz');
    const bytes = await readFile(file);
    bytes[bytes.length - 30] ^= 0x01;
    await writeFile(file, bytes);
    await expect(fetchVerifiedSource({ mirror: m.url, cacheDir: cache, trusted: [key.fingerprint], now: NOW })).rejects.toThrow(/digest mismatch/);
    expect((await readdir(cache)).filter((n) => n.startsWith('exim-'))).toEqual([]);
  });

  it('refuses an unpinned signer, naming its fingerprint', async () => {
    const m = await makeMirror();
    const cache = await cacheDir();
    const err = await fetchVerifiedSource({ mirror: m.url, cacheDir: cache, trusted: [], now: NOW }).then(() => undefined, (e: unknown) => e);
    expect((err as SignatureError).reason).toBe('unpinned');
    expect((err as Error).message).toContain(key.fingerprint);
    expect((await readdir(cache)).filter((n) => n.startsWith('exim-'))).toEqual([]);
  });

  it('treats a missing .asc as a signature failure', async () => {
    const m = await makeMirror();
    const cache = await cacheDir();
    await run('rm', [path.join(m.exim4, 'fixes', 'exim-4.97.1.tar.xz.asc')]);
    const err = await fetchVerifiedSource({ mirror: m.url, cacheDir: cache, trusted: [key.fingerprint], now: NOW }).then(() => undefined, (e: unknown) => e);
    expect((err as SignatureError).reason).toBe('missing');
    expect((err as Error).message).toContain(`${m.url}fixes/exim-4.97.1.tar.xz.asc`);
    expect(await exists(path.join(cache, 'exim-4.97.1.tar.xz'))).toBe(false);
  });

  it('fetches the keyring again when the cached one lacks the signing key', async () => {
    const m = await makeMirror();
    const cache = await cacheDir();
    await mkdir(cache, { recursive: true });
    const other = await makeKey('Someone Else');
    await writeFile(path.join(cache, 'Exim-Maintainers-Keyring.asc'), other.publicArmored);
    const lines: string[] = [];
    const r = await fetchVerifiedSource({ mirror: m.url, cacheDir: cache, trusted: [key.fingerprint], now: NOW, log: (l) => lines.push(l) });
    expect(r.signature.primaryFingerprint).toBe(key.fingerprint);
    expect(r.downloaded).toContain(r.keyringUrl);
    expect(lines.some((l) => /not in the cached keyring/.test(l))).toBe(true);
    expect(await readFile(path.join(cache, 'Exim-Maintainers-Keyring.asc'), 'utf8')).toBe(key.publicArmored);
  });

  it('uses --keyring FILE and a plain directory mirror', async () => {
    const m = await makeMirror();
    const cache = await cacheDir();
    const keyring = path.join(path.dirname(cache), 'my-keyring.asc');
    await writeFile(keyring, key.publicArmored);
    const r = await fetchVerifiedSource({ mirror: m.exim4, cacheDir: cache, keyringFile: keyring, trusted: [key.fingerprint], now: NOW });
    expect(r.keyringPath).toBe(keyring);
    expect(r.tarballUrl).toBe(path.join(m.exim4, 'fixes', 'exim-4.97.1.tar.xz'));
    expect(await readdir(cache)).not.toContain('Exim-Maintainers-Keyring.asc');
  });

  it('says when it falls back to the pinned version', async () => {
    const s = await scratch('nolist');
    cleanups.push(s.cleanup);
    const plan = await planSource({ mirror: path.join(s.dir, 'exim4'), cacheDir: path.join(s.dir, 'cache') });
    expect(plan.version).toBe('4.96');
    expect(plan.fallbackNote).toMatch(/pinned version 4\.96/);
  });
});
