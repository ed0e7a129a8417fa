import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { installedIn, installedPackages, packageQuery } from '../../../src/system/apt.js';
import { globPattern, installedPackageFiles, keptSnapshotFor, keptSnapshotText, packageStates, parsePackageStates, simplePatterns } from '../../../src/system/dpkg-status.js';
import { run } from '../../../src/system/run.js';

const globMatches = (pattern: string, name: string) => globPattern(pattern).test(name);

describe('dpkg status snapshot', () => {
  it('parses states, an installed arch copy winning over another', () => {
    const m = parsePackageStates('exim4\tii \t4.96-15\nlibx\trc \t1\nlibx\tii \t2\nlibx\tun \t\n');
    expect(m.get('exim4')).toEqual({ status: 'ii ', version: '4.96-15' });
    expect(m.get('libx')).toEqual({ status: 'ii ', version: '2' });
  });

  it('matches dpkg globs and leaves [classes] to dpkg-query', () => {
    expect(globMatches('exim4*', 'exim4-daemon-light')).toBe(true);
    expect(globMatches('exim4*', 'xexim4')).toBe(false);
    expect(globMatches('libc6.?', 'libc6.1')).toBe(true);
    expect(globMatches('libc6', 'libc6x')).toBe(false);
    expect(globMatches('g++', 'g++')).toBe(true);
    expect(simplePatterns(['exim4*', 'postfix'])).toBe(true);
    expect(simplePatterns(['exim[4]'])).toBe(false);
  });

  it('answers as a direct dpkg-query does, and reuses one listing while dpkg is unchanged', async () => {
    const patterns = ['dpkg', 'libc6', 'exim4*', 'postfix', 'sendmail*', 'no-such-package-labctl', 'g++', 'lib*ssl*'];
    const direct = installedIn((await run('dpkg-query', packageQuery(patterns), { allowFailure: true })).stdout);
    expect(direct).toContain('dpkg');
    expect((await installedPackages(patterns)).sort()).toEqual([...direct].sort());
    const first = await packageStates();
    expect(await packageStates()).toBe(first);
  });
});

describe('the list kept between runs', () => {
  const states = parsePackageStates('dpkg\tii \t1.21.22\nexim4\trc \t4.96-15\n');

  it('is read back only for the identity it was made for', () => {
    const text = keptSnapshotText({ identity: 'A', states });
    expect(keptSnapshotFor(text, 'A')?.states).toEqual(states);
    expect(keptSnapshotFor(text, 'B')).toBeUndefined();
    expect(keptSnapshotFor(undefined, 'A')).toBeUndefined();
    expect(keptSnapshotFor('{not json', 'A')).toBeUndefined();
    expect(keptSnapshotFor(JSON.stringify({ schemaVersion: 1, identity: 'A', states: [['dpkg', 'ii ']] }), 'A')).toBeUndefined();
    expect(keptSnapshotFor(JSON.stringify({ schemaVersion: 2, identity: 'A', states: [] }), 'A')).toBeUndefined();
  });

  /** The module as a new labctl process loads it: a copy of its own, with its own module state. */
  let copies = 0;
  const freshPackageStates = async () => {
    const copy = `../../../src/system/dpkg-status.js?copy=${++copies}`;
    return (await (import(/* @vite-ignore */ copy) as Promise<typeof import('../../../src/system/dpkg-status.js')>)).packageStates();
  };

  it('a fresh run finds dpkg as the last run left it and reads the kept list instead of running dpkg-query; another identity runs it again', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'labctl-dpkg-kept-'));
    const before = process.env.LABCTL_LOCK_DIR;
    process.env.LABCTL_LOCK_DIR = dir;
    try {
      const first = await freshPackageStates();
      expect(first.get('dpkg')?.status).toMatch(/^ii/);
      const file = path.join(dir, 'dpkg-states.json');
      const kept = JSON.parse(await readFile(file, 'utf8')) as { identity: string; states: string[][] };
      expect(kept.states.length).toBe(first.size);
      // A planted row under the same identity: a fresh process answers from the kept list.
      await writeFile(file, JSON.stringify({ ...kept, states: [...kept.states, ['labctl-planted', 'ii ', '1']] }));
      const second = await freshPackageStates();
      expect(second.get('labctl-planted')).toEqual({ status: 'ii ', version: '1' });
      // The same row under another identity (dpkg changed since): dpkg-query runs, the row is gone.
      await writeFile(file, JSON.stringify({ ...kept, identity: `${kept.identity}-other`, states: [...kept.states, ['labctl-planted', 'ii ', '1']] }));
      const third = await freshPackageStates();
      expect(third.has('labctl-planted')).toBe(false);
      expect(third.get('dpkg')?.status).toMatch(/^ii/);
    } finally {
      if (before === undefined) delete process.env.LABCTL_LOCK_DIR;
      else process.env.LABCTL_LOCK_DIR = before;
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the files of an installed package', () => {
  it('read from dpkg\'s own list are what dpkg-query -L prints; a package not installed is left to dpkg-query', async () => {
    for (const pkg of ['dpkg', 'coreutils']) {
      const listed = (await run('dpkg-query', ['-L', pkg])).stdout.split('\n').filter((l) => l.startsWith('/'));
      expect(await installedPackageFiles(pkg), pkg).toEqual(listed);
    }
    expect(await installedPackageFiles('no-such-package-labctl')).toBeUndefined();
    // A Multi-Arch: same package keeps its list as PACKAGE:ARCH.list: left to dpkg-query too.
    expect(await installedPackageFiles('libc6')).toBeUndefined();
  });
});
