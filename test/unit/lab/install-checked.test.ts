/**
 * A running lab daemon's files replaced the safe way (src/lab/services/install.ts): staged beside
 * their targets, the staged copies checked, then put in place; the old bytes back when the daemon
 * does not take them, or when lab up takes the step back. Real files in a temporary directory; the
 * check and the daemon's reload are stand-ins (the e2e test 04-lab runs the real ones).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installChecked } from '../../../src/lab/services/install.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-install-'));
  await fs.writeFile(path.join(dir, 'a.conf'), 'old a\n');
  await fs.writeFile(path.join(dir, 'b.txt'), 'old b\n');
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

const read = (f: string) => fs.readFile(path.join(dir, f), 'utf8');
const files = () => [{ path: path.join(dir, 'a.conf'), text: 'new a\n' }, { path: path.join(dir, 'b.txt'), text: 'new b\n' }];

describe('installChecked', () => {
  it('checks the staged copies, not the files in place, and installs them only then', async () => {
    const seen: string[] = [];
    const reloads: boolean[] = [];
    await installChecked({
      what: 'the files',
      files: files(),
      async check(staged) {
        const a = staged[path.join(dir, 'a.conf')]!;
        expect(a).not.toBe(path.join(dir, 'a.conf'));
        seen.push(await fs.readFile(a, 'utf8'), await read('a.conf'));
      },
      async reload(restored) {
        reloads.push(restored);
        seen.push(await read('a.conf'));
      },
    });
    expect(seen).toEqual(['new a\n', 'old a\n', 'new a\n']);
    expect(reloads).toEqual([false]);
    expect([await read('a.conf'), await read('b.txt')]).toEqual(['new a\n', 'new b\n']);
    expect((await fs.readdir(dir)).sort()).toEqual(['a.conf', 'b.txt']);
  });

  it('a check that refuses leaves every file as it was, nothing staged left, and no daemon told', async () => {
    let told = 0;
    const p = installChecked({ what: 'the files', files: files(), check: async () => { throw new Error('refused'); }, reload: async () => void told++ });
    await expect(p).rejects.toThrow('refused');
    expect([await read('a.conf'), await read('b.txt')]).toEqual(['old a\n', 'old b\n']);
    expect((await fs.readdir(dir)).sort()).toEqual(['a.conf', 'b.txt']);
    expect(told).toBe(0);
  });

  it('a daemon that does not take the new files gets the old bytes back and is told again; the error says so in one line', async () => {
    const reloads: [boolean, string][] = [];
    const p = installChecked({
      what: 'the files',
      files: [...files(), { path: path.join(dir, 'c.new-file'), text: 'c\n' }],
      check: async () => {},
      async reload(restored) {
        reloads.push([restored, await read('a.conf')]);
        if (!restored) throw new Error('no new workers');
      },
    });
    await expect(p).rejects.toThrow(/^no new workers; the files were put back as they were and the daemon told again$/);
    expect(reloads).toEqual([[false, 'new a\n'], [true, 'old a\n']]);
    expect([await read('a.conf'), await read('b.txt')]).toEqual(['old a\n', 'old b\n']);
    expect((await fs.readdir(dir)).sort()).toEqual(['a.conf', 'b.txt']);
  });

  it('restore (lab up taking the step back after a later one failed) puts the old bytes back and tells the daemon', async () => {
    const reloads: boolean[] = [];
    const done = await installChecked({ what: 'the files', files: files(), check: async () => {}, reload: async (r) => void reloads.push(r) });
    expect(await done.restore()).toBe('the files put back as they were, and the daemon told again');
    expect([await read('a.conf'), await read('b.txt')]).toEqual(['old a\n', 'old b\n']);
    expect(reloads).toEqual([false, true]);
  });
});
