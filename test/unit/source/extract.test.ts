import { lstat, mkdir, readFile, readdir, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { afterEach, describe, expect, it } from 'vitest';
import { LabError } from '../../../src/errors.js';
import { compressionOf, decompressed, escapeReason, extractTarball, resolveSymlink } from '../../../src/source/extract.js';
import { exists } from '../../../src/system/files.js';
import { run } from '../../../src/system/run.js';
import { scratch } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
async function tmp(): Promise<string> {
  const s = await scratch('extract');
  cleanups.push(s.cleanup);
  return s.dir;
}

interface RawEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link';
  body?: string;
  linkpath?: string;
  mode?: number;
}

/** A gzipped tar built header by header, so entries can say things `tar -c` never would. */
function rawTarGz(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const type = e.type ?? 'File';
    const h = new Header({
      path: e.path,
      type,
      linkpath: e.linkpath,
      size: type === 'File' ? body.length : 0,
      mode: e.mode ?? (type === 'Directory' ? 0o755 : 0o644),
      mtime: new Date('2022-06-25T00:00:00Z'),
      uid: 0,
      gid: 0,
    });
    const header = Buffer.alloc(512);
    h.encode(header, 0);
    blocks.push(header);
    if (type === 'File' && body.length) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** A small source tree like a release's: one top-level directory, a subdirectory, a symlink inside. */
async function sourceTree(root: string): Promise<void> {
  const top = path.join(root, 'exim-4.96');
  await mkdir(path.join(top, 'src'), { recursive: true });
  await writeFile(path.join(top, 'README'), 'Exim README\n');
  await writeFile(path.join(top, 'src', 'EDITME'), 'BIN_DIRECTORY=/usr/exim/bin\n'.repeat(200));
  await symlink('src/EDITME', path.join(top, 'EDITME.link'));
}

describe('extractTarball', () => {
  for (const [format, flag] of [
    ['xz', '-cJf'],
    ['bz2', '-cjf'],
    ['gz', '-czf'],
  ] as const) {
    it(`extracts a .tar.${format} made by the system tar`, async () => {
      const dir = await tmp();
      await sourceTree(path.join(dir, 'tree'));
      const tarball = path.join(dir, `exim-4.96.tar.${format}`);
      await run('tar', [flag, tarball, '-C', path.join(dir, 'tree'), 'exim-4.96']);
      expect(compressionOf(await readFile(tarball))).toBe(format);
      const build = path.join(dir, 'build');
      const top = await extractTarball(tarball, build);
      expect(top).toBe(path.join(build, 'exim-4.96'));
      expect(await readFile(path.join(top, 'src', 'EDITME'), 'utf8')).toBe('BIN_DIRECTORY=/usr/exim/bin\n'.repeat(200));
      expect(await readFile(path.join(top, 'README'), 'utf8')).toBe('Exim README\n');
      expect(await readlink(path.join(top, 'EDITME.link'))).toBe('src/EDITME');
      // No temporary directory is left beside the target.
      expect(await readdir(dir)).toEqual(expect.arrayContaining(['build', 'tree']));
      expect((await readdir(dir)).filter((n) => n.startsWith('.'))).toEqual([]);
    });
  }

  it('keeps every byte of a .tar.bz2 until it is read, however late the reader comes (a slow import of node-tar under load lost them)', async () => {
    const dir = await tmp();
    await sourceTree(path.join(dir, 'tree'));
    const tarball = path.join(dir, 'exim-4.96.tar.bz2');
    await run('tar', ['-cjf', tarball, '-C', path.join(dir, 'tree'), 'exim-4.96']);
    const plain = Number((await run('sh', ['-c', 'bzip2 -dc "$0" | wc -c', tarball])).stdout.trim());
    expect(plain).toBeGreaterThan(10_000);
    const stream = await decompressed(await readFile(tarball), 'bz2');
    await new Promise((r) => setTimeout(r, 300));
    const bytes = await new Promise<number>((resolve) => {
      let n = 0;
      stream.on('data', (chunk: Buffer) => (n += chunk.length));
      stream.on('end', () => resolve(n));
      // A stream that lost its bytes never ends: say how many arrived instead of hanging.
      setTimeout(() => resolve(n), 5000).unref();
    });
    expect(bytes).toBe(plain);
  });

  it('replaces a previous extraction of the same release', async () => {
    const dir = await tmp();
    await sourceTree(path.join(dir, 'tree'));
    const tarball = path.join(dir, 'exim-4.96.tar.gz');
    await run('tar', ['-czf', tarball, '-C', path.join(dir, 'tree'), 'exim-4.96']);
    const build = path.join(dir, 'build');
    const top = await extractTarball(tarball, build);
    await writeFile(path.join(top, 'stale.o'), 'old build output');
    await extractTarball(tarball, build);
    expect(await exists(path.join(top, 'stale.o'))).toBe(false);
    expect(await exists(path.join(top, 'README'))).toBe(true);
    expect(await readdir(build)).toEqual(['exim-4.96']);
  });

  const evil: Array<[string, RawEntry, RegExp]> = [
    ['an absolute path', { path: '/tmp/labctl-evil-abs', body: 'pwned' }, /"\/tmp\/labctl-evil-abs": absolute path/],
    ['a .. path', { path: 'exim-4.96/../../evil', body: 'pwned' }, /"exim-4\.96\/\.\.\/\.\.\/evil": path contains '\.\.'/],
    ['a symlink pointing outside', { path: 'exim-4.96/escape', type: 'SymbolicLink', linkpath: '../../outside' }, /symlink pointing outside \(\.\.\/\.\.\/outside\)/],
    ['an absolute symlink', { path: 'exim-4.96/passwd', type: 'SymbolicLink', linkpath: '/etc/passwd' }, /symlink to an absolute path \(\/etc\/passwd\)/],
    ['a hard link pointing outside', { path: 'exim-4.96/hard', type: 'Link', linkpath: '../secret' }, /hard link pointing outside \(\.\.\/secret\)/],
  ];
  for (const [what, entry, message] of evil) {
    it(`refuses ${what} and leaves nothing in the target`, async () => {
      const dir = await tmp();
      const tarball = path.join(dir, 'exim-4.96.tar.gz');
      await writeFile(
        tarball,
        rawTarGz([
          { path: 'exim-4.96/', type: 'Directory' },
          { path: 'exim-4.96/README', body: 'fine' },
          entry,
          { path: 'exim-4.96/src/EDITME', body: 'fine too' },
        ]),
      );
      const build = path.join(dir, 'work', 'build');
      const err = await extractTarball(tarball, build).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(LabError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toContain('exim-4.96.tar.gz');
      expect(await exists(build)).toBe(false);
      expect(await readdir(path.join(dir, 'work'))).toEqual([]);
      expect(await exists(path.join(dir, 'evil'))).toBe(false);
      expect(await exists('/tmp/labctl-evil-abs')).toBe(false);
    });
  }

  it('keeps an existing extraction untouched when a new tarball is refused', async () => {
    const dir = await tmp();
    const build = path.join(dir, 'build');
    await mkdir(path.join(build, 'exim-4.96'), { recursive: true });
    await writeFile(path.join(build, 'exim-4.96', 'README'), 'previous');
    const tarball = path.join(dir, 'exim-4.96.tar.gz');
    await writeFile(tarball, rawTarGz([{ path: 'exim-4.96/README', body: 'new' }, { path: '../x', body: 'bad' }]));
    await expect(extractTarball(tarball, build)).rejects.toThrow(/refusing tar entry/);
    expect(await readFile(path.join(build, 'exim-4.96', 'README'), 'utf8')).toBe('previous');
    expect(await readdir(build)).toEqual(['exim-4.96']);
  });

  it('refuses a file that is not a compressed tarball, and a truncated one', async () => {
    const dir = await tmp();
    const html = path.join(dir, 'exim-4.96.tar.xz');
    await writeFile(html, '<html>404 Not Found</html>');
    await expect(extractTarball(html, path.join(dir, 'b1'))).rejects.toThrow(/not a tar archive/);
    await sourceTree(path.join(dir, 'tree'));
    const good = path.join(dir, 'good.tar.xz');
    await run('tar', ['-cJf', good, '-C', path.join(dir, 'tree'), 'exim-4.96']);
    const cut = path.join(dir, 'cut.tar.xz');
    const bytes = await readFile(good);
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expect(extractTarball(cut, path.join(dir, 'b2'))).rejects.toThrow(/extracting cut.tar.xz failed: the xz data is corrupt or truncated/);
    expect(await exists(path.join(dir, 'b2'))).toBe(false);
  });
});

/** Extracts `entries` (as a .tar.gz) into `<dir>/work/build`; the error when refused. */
async function extractRaw(dir: string, entries: RawEntry[]): Promise<{ build: string; err?: Error }> {
  const tarball = path.join(dir, 'exim-4.96.tar.gz');
  await writeFile(tarball, rawTarGz(entries));
  const build = path.join(dir, 'work', 'build');
  const err = await extractTarball(tarball, build).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  return { build, err };
}

describe('extractTarball: modes', () => {
  it('drops setuid, setgid and sticky bits from files and directories, keeping the rest', async () => {
    const dir = await tmp();
    const { build, err } = await extractRaw(dir, [
      { path: 'exim-4.96/', type: 'Directory', mode: 0o755 },
      { path: 'exim-4.96/setgid/', type: 'Directory', mode: 0o2755 },
      { path: 'exim-4.96/sticky/', type: 'Directory', mode: 0o1777 },
      { path: 'exim-4.96/setuid-tool', body: '#!/bin/sh\n', mode: 0o4755 },
      { path: 'exim-4.96/setgid/tool', body: '#!/bin/sh\n', mode: 0o2755 },
      { path: 'exim-4.96/sticky/README', body: 'text', mode: 0o1644 },
    ]);
    expect(err).toBeUndefined();
    const top = path.join(build, 'exim-4.96');
    const special: Record<string, string> = {};
    for (const p of ['.', 'setgid', 'sticky', 'setuid-tool', 'setgid/tool', 'sticky/README']) {
      special[p] = ((await stat(path.join(top, p))).mode & 0o7000).toString(8);
    }
    expect(special).toEqual({ '.': '0', setgid: '0', sticky: '0', 'setuid-tool': '0', 'setgid/tool': '0', 'sticky/README': '0' });
    // Only the special bits go: the tool stays executable, the file stays a plain file.
    expect((await stat(path.join(top, 'setuid-tool'))).mode & 0o777).toBe(0o755 & ~process.umask());
    expect((await stat(path.join(top, 'sticky', 'README'))).mode & 0o777).toBe(0o644 & ~process.umask());
    expect((await stat(path.join(top, 'sticky'))).isDirectory()).toBe(true);
  });
});

describe('extractTarball: symlinks resolved through the tree', () => {
  it('refuses the chain a/b/s -> ../.. then x -> a/b/s/../OUTSIDE, which each pass the name check', async () => {
    // Each link on its own stays inside by name...
    expect(escapeReason('exim-4.96/a/b/s', 'SymbolicLink', '../..')).toBeUndefined();
    expect(escapeReason('exim-4.96/x', 'SymbolicLink', 'a/b/s/../OUTSIDE')).toBeUndefined();
    // ...but x leads to <build>/OUTSIDE, beside the source tree.
    const dir = await tmp();
    const { build, err } = await extractRaw(dir, [
      { path: 'exim-4.96/', type: 'Directory' },
      { path: 'exim-4.96/a/', type: 'Directory' },
      { path: 'exim-4.96/a/b/', type: 'Directory' },
      { path: 'exim-4.96/README', body: 'fine' },
      { path: 'exim-4.96/a/b/s', type: 'SymbolicLink', linkpath: '../..' },
      { path: 'exim-4.96/x', type: 'SymbolicLink', linkpath: 'a/b/s/../OUTSIDE' },
    ]);
    expect(err).toBeInstanceOf(LabError);
    expect(err!.message).toBe(
      'exim-4.96.tar.gz: refusing tar entry "exim-4.96/x": symlink to a/b/s/../OUTSIDE resolves outside the source directory',
    );
    expect((err as LabError).hint).toMatch(/nothing was extracted/);
    expect(await exists(build)).toBe(false);
    expect(await readdir(path.join(dir, 'work'))).toEqual([]);
  });

  it('refuses a chain that climbs out of the extraction directory itself', async () => {
    const dir = await tmp();
    const { build, err } = await extractRaw(dir, [
      { path: 'exim-4.96/', type: 'Directory' },
      { path: 'exim-4.96/a/', type: 'Directory' },
      { path: 'exim-4.96/a/b/', type: 'Directory' },
      { path: 'exim-4.96/a/b/s', type: 'SymbolicLink', linkpath: '../..' },
      { path: 'exim-4.96/x', type: 'SymbolicLink', linkpath: 'a/b/s/../../../../etc/passwd' },
    ]);
    expect(err?.message).toMatch(/refusing tar entry "exim-4\.96\/x": symlink to .* resolves outside the source directory$/);
    expect(await exists(build)).toBe(false);
  });

  it('still extracts a chain of links that stays inside', async () => {
    // w -> t -> s: by name w points at a/src/EDITME, which does not exist; through the links it
    // reaches src/EDITME. (No link names another link outright: node-tar itself refuses to
    // create a link whose path crosses a symlink already on disk, which would make the result
    // depend on the order it writes entries in.)
    const dir = await tmp();
    const { build, err } = await extractRaw(dir, [
      { path: 'exim-4.96/', type: 'Directory' },
      { path: 'exim-4.96/src/', type: 'Directory' },
      { path: 'exim-4.96/src/sub/', type: 'Directory' },
      { path: 'exim-4.96/src/EDITME', body: 'BIN_DIRECTORY=/usr/exim/bin\n' },
      { path: 'exim-4.96/a/', type: 'Directory' },
      { path: 'exim-4.96/a/b/', type: 'Directory' },
      { path: 'exim-4.96/a/b/s', type: 'SymbolicLink', linkpath: '../../src/sub' },
      { path: 'exim-4.96/a/t', type: 'SymbolicLink', linkpath: 'b/s/..' },
      { path: 'exim-4.96/w', type: 'SymbolicLink', linkpath: 'a/t/../src/EDITME' },
      { path: 'exim-4.96/a/b/dangling', type: 'SymbolicLink', linkpath: '../../build/../src/EDITME.later' },
    ]);
    expect(err).toBeUndefined();
    const top = path.join(build, 'exim-4.96');
    expect(await readFile(path.join(top, 'w'), 'utf8')).toBe('BIN_DIRECTORY=/usr/exim/bin\n');
    expect(await readlink(path.join(top, 'w'))).toBe('a/t/../src/EDITME');
    expect((await lstat(path.join(top, 'a', 'b', 'dangling'))).isSymbolicLink()).toBe(true);
  });
});

describe('resolveSymlink', () => {
  async function tree(links: Record<string, string>, dirs: string[] = []): Promise<string> {
    const root = path.join(await tmp(), 'root');
    await mkdir(root);
    for (const d of dirs) await mkdir(path.join(root, d), { recursive: true });
    for (const [at, to] of Object.entries(links)) await symlink(to, path.join(root, at));
    return root;
  }

  it('follows links inside links to the real target', async () => {
    const root = await tree({ 'a/b/s': '../..', 'a/t': 'b/s/c', x: 'a/t/../a' }, ['a/b', 'c']);
    expect(await resolveSymlink(root, 'a/b/s')).toEqual({ inside: true, target: '.' });
    expect(await resolveSymlink(root, 'a/t')).toEqual({ inside: true, target: 'c' });
    expect(await resolveSymlink(root, 'x')).toEqual({ inside: true, target: 'a' });
  });

  it('appends a dangling tail by name, and resolves again once a .. takes it off', async () => {
    const root = await tree({ 'a/b/s': '../..', d: 'missing/x/../..', e: 'missing/../a/b/s/..' }, ['a/b']);
    expect(await resolveSymlink(root, 'd')).toEqual({ inside: true, target: '.' });
    // Once make creates `missing`, e leads through s to the parent of root.
    expect(await resolveSymlink(root, 'e')).toEqual({ inside: false, why: 'resolves outside the source directory' });
  });

  it('gives up on a loop after 40 links', async () => {
    const root = await tree({ p: 'q', q: 'p' });
    expect(await resolveSymlink(root, 'p')).toEqual({ inside: false, why: 'goes through more than 40 symlinks' });
  });
});

describe('escapeReason', () => {
  it('allows links that stay inside', () => {
    expect(escapeReason('exim-4.96/a/link', 'SymbolicLink', '../b/file')).toBeUndefined();
    expect(escapeReason('exim-4.96/hard', 'Link', 'exim-4.96/README')).toBeUndefined();
    expect(escapeReason('exim-4.96/src/x.c', 'File')).toBeUndefined();
  });
  it('names the way out', () => {
    expect(escapeReason('exim-4.96/link', 'SymbolicLink', '../../x')).toMatch(/pointing outside/);
    expect(escapeReason('a/../../b', 'File')).toMatch(/'\.\.'/);
  });
});
