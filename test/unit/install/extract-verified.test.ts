/**
 * The attack: the cached tarball is replaced after its signature was verified and before it is
 * unpacked (a path reopened for extraction sees whatever is there then). The install's extract
 * step must unpack only the bytes whose signature was checked, or nothing.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InstallContext } from '../../../src/install/context.js';
import { extract } from '../../../src/install/steps/extract.js';
import { fetchVerifiedSource } from '../../../src/source/fetch.js';
import { exists } from '../../../src/system/files.js';
import { run } from '../../../src/system/run.js';
import { at, makeKey, scratch, serve, signDetached, type TestKey } from '../source/helpers.js';

let key: TestKey;
beforeAll(async () => {
  key = await makeKey('Jo Maintainer');
});
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  delete process.env.LABCTL_BUILD_DIR;
});

/** A real exim-4.97.tar.xz holding src/EDITME with `text`, made by the system tar. */
async function tarball(dir: string, text: string): Promise<string> {
  const tree = path.join(dir, `tree-${createHash('sha256').update(text).digest('hex').slice(0, 8)}`);
  await mkdir(path.join(tree, 'exim-4.97', 'src'), { recursive: true });
  await writeFile(path.join(tree, 'exim-4.97', 'src', 'EDITME'), text);
  const file = path.join(tree, 'exim-4.97.tar.xz');
  await run('tar', ['-cJf', file, '-C', tree, 'exim-4.97']);
  return file;
}

describe('extract unpacks the bytes whose signature was verified', () => {
  it('a tarball replaced after the signature check is refused, and nothing is unpacked', async () => {
    const s = await scratch('extract-verified');
    cleanups.push(s.cleanup);
    const exim4 = path.join(s.dir, 'mirror', 'exim4');
    await mkdir(exim4, { recursive: true });
    const genuine = await readFile(await tarball(s.dir, '# genuine EDITME\n'));
    await writeFile(path.join(exim4, 'exim-4.97.tar.xz'), genuine);
    await writeFile(path.join(exim4, 'exim-4.97.tar.xz.asc'), await signDetached(genuine, key.privateKey, at('2023-05-01T00:00:00Z')));
    const srv = await serve(async (req, res) => {
      const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      if (rel === '/exim4/') return res.end('<a href="exim-4.97.tar.xz">exim-4.97.tar.xz</a>\n<a href="exim-4.97.tar.xz.asc">exim-4.97.tar.xz.asc</a>\n');
      try {
        res.end(await readFile(path.join(s.dir, 'mirror', rel)));
      } catch {
        res.statusCode = 404;
        res.end();
      }
    });
    cleanups.push(srv.close);

    const release = await fetchVerifiedSource({
      source: 'mirror', mirror: `${srv.url}/exim4/`, cacheDir: path.join(s.dir, 'cache'),
      trusted: [key.fingerprint], shippedKeys: key.publicArmored, now: at('2024-03-01T12:00:00Z'),
    });
    expect(release.signature.primaryFingerprint).toBe(key.fingerprint);
    expect(release.sha256).toBe(createHash('sha256').update(genuine).digest('hex'));

    // The swap, between the signature step and the extract step: another, unsigned tarball.
    await writeFile(release.tarballPath, await readFile(await tarball(s.dir, '# EDITME of the attacker\n')));

    process.env.LABCTL_BUILD_DIR = path.join(s.dir, 'build');
    const ctx = { release, o: {}, note: () => undefined, upToDate: false } as unknown as InstallContext;
    await expect(extract.apply(ctx)).rejects.toThrow(/exim-4\.97\.tar\.xz changed after its signature was verified/);
    expect(await exists(path.join(s.dir, 'build', 'exim-4.97'))).toBe(false);

    // The genuine bytes back: unpacked, and what is unpacked is theirs.
    await writeFile(release.tarballPath, genuine);
    await extract.apply(ctx);
    expect(await readFile(path.join(s.dir, 'build', 'exim-4.97', 'src', 'EDITME'), 'utf8')).toBe('# genuine EDITME\n');
  });
});
