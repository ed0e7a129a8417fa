/**
 * apt's downloads for Debian's archive run as `_apt`, not as root: labctl gives `_apt` the
 * partial directories, names it as the sandbox user, and where apt could still only download as
 * root (a directory above the private state that `_apt` cannot enter) it stops. Real apt-get
 * against Debian's archive; needs root and the network to the archive.
 */
import { mkdtemp, chmod, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { privateShowsrc } from '../../../src/system/apt.js';
import { lookupUser } from '../../../src/system/accounts.js';
import { derivedSourceLines, parseAptSources } from '../../../src/source/debian-index.js';
import { machineAptSources } from '../../../src/system/apt.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function oneSuite(): Promise<string[]> {
  const m = await machineAptSources();
  const line = derivedSourceLines(parseAptSources(m.files), m.distro)[0];
  expect(line, "a deb-src line from this machine's apt sources").toBeDefined();
  return [line!];
}

describe("apt's sandbox for the Debian source", () => {
  it('runs as root (it changes owners and runs apt-get)', () => {
    expect(process.getuid?.(), 'run the unit tests as root: sudo npm test').toBe(0);
  });

  it('downloads as _apt, which owns the partial directories', async () => {
    const top = await mkdtemp(path.join(os.tmpdir(), 'labctl-apt-'));
    dirs.push(top);
    await chmod(top, 0o755);
    const r = await privateShowsrc(path.join(top, 'apt'), await oneSuite(), 'exim4');
    expect(r.updateLog).not.toMatch(/unsandboxed/);
    expect(r.updateLog).toContain('APT::Sandbox::User=_apt');
    expect(r.showsrc).toMatch(/^Package: exim4$/m);
    const apt = (await lookupUser('_apt'))!;
    expect((await stat(path.join(top, 'apt/lists/partial'))).uid).toBe(apt.uid);
  }, 120_000);

  it('stops where apt could download only as root, instead of letting it', async () => {
    const top = await mkdtemp(path.join(os.tmpdir(), 'labctl-apt-'));
    dirs.push(top);
    await chmod(top, 0o700); // _apt cannot enter it
    await expect(privateShowsrc(path.join(top, 'apt'), await oneSuite(), 'exim4')).rejects.toThrow(/^apt could download only as root, not as _apt: Download is performed unsandboxed as root/);
  }, 120_000);
});
