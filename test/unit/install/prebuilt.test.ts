/**
 * --from-build's manifest (src/install/prebuilt.ts): what is accepted, what the build decides
 * (version and Makefile settings), and what is refused, each with the one line the user sees.
 * Runs against scratch directories.
 */
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InstallContext, InstallOptions } from '../../../src/install/context.js';
import { checkExportTarget, checkPrebuilt, currentExport, fromBuildOptions, readManifest, type BuildManifest } from '../../../src/install/prebuilt.js';
import { sha256File } from '../../../src/system/files.js';
import { machineKind } from '../../../src/system/machine.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'labctl-prebuilt-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const options = (o: Partial<InstallOptions> = {}): InstallOptions => ({
  source: 'auto',
  allowDowngrade: false,
  cacheDir: '/var/cache/labctl',
  trusted: [],
  binDirectory: '/usr/exim/bin',
  configureFile: '/usr/exim/configure',
  eximUser: 'exim',
  spf: false,
  removeExisting: false,
  yes: true,
  confirm: async () => true,
  json: false,
  fromBuild: dir,
  ...o,
});

async function manifest(change: (m: BuildManifest) => void = () => {}): Promise<BuildManifest> {
  const m: BuildManifest = {
    schema: 1,
    version: '4.98.2',
    inputsKey: 'f2c8abfcc383e2f8',
    make: { eximUser: 'exim', binDirectory: '/opt/exim/bin', configureFile: '/opt/exim/configure', spf: true, dmarc: true },
    tarball: 'exim4/exim-4.98.2.tar.xz',
    tarballSha256: 'a'.repeat(64),
    tree: 'exim-4.98.2-build.tar.gz',
    treeSha256: 'b'.repeat(64),
    machine: await machineKind(),
    builtOn: 'st14',
    exportedAt: '2026-11-28T13:10:51.322Z',
  };
  change(m);
  await writeFile(path.join(dir, 'build.json'), JSON.stringify(m));
  return m;
}

describe('--from-build DIR', () => {
  it('takes the version and every Makefile setting from the build, and DIR/exim4 as the mirror', async () => {
    await manifest();
    const { o, manifest: read } = await fromBuildOptions(options());
    expect(read?.builtOn).toBe('st14');
    expect(o).toMatchObject({ source: 'mirror', mirror: path.join(dir, 'exim4'), version: '4.98.2', spf: true, dmarc: true, binDirectory: '/opt/exim/bin', configureFile: '/opt/exim/configure', eximUser: 'exim' });
  });

  it('refuses a feature the build lacks, and another version', async () => {
    await manifest((m) => (m.make = { ...m.make, dmarc: false, spf: false }));
    await expect(fromBuildOptions(options({ dmarc: true }))).rejects.toThrow(/^--with dmarc: the build in .* was made without it$/);
    await expect(fromBuildOptions(options({ version: '4.96' }))).rejects.toThrow(/^--version 4\.96 and --from-build .* \(Exim 4\.98\.2\) disagree$/);
  });

  it('refuses a missing or broken manifest, and names and paths that would leave DIR or reach the Makefile', async () => {
    await expect(readManifest(dir)).rejects.toThrow(/no build\.json there/);
    await writeFile(path.join(dir, 'build.json'), '{');
    await expect(readManifest(dir)).rejects.toThrow(/build\.json is not valid JSON/);
    await manifest((m) => (m.tree = '../../etc/shadow'));
    await expect(readManifest(dir)).rejects.toThrow(/is not a labctl build manifest/);
    await manifest((m) => ((m as { schema: number }).schema = 2));
    await expect(readManifest(dir)).rejects.toThrow(/is not a labctl build manifest/);
    // A hand-edited file missing a field labctl reads: one line, not a TypeError.
    for (const field of ['treeSha256', 'tarballSha256', 'machine'] as const) {
      await manifest((m) => delete (m as Partial<BuildManifest>)[field]);
      await expect(readManifest(dir)).rejects.toThrow(/^--from-build .*: build\.json is not a labctl build manifest$/);
    }
    await manifest((m) => delete (m.make as Partial<BuildManifest['make']>).spf);
    await expect(readManifest(dir)).rejects.toThrow(/is not a labctl build manifest/);
    await writeFile(path.join(dir, 'build.json'), 'null');
    await expect(readManifest(dir)).rejects.toThrow(/is not a labctl build manifest/);
    await manifest((m) => (m.make.binDirectory = '/usr/exim/bin;id>/tmp/pwn'));
    await expect(fromBuildOptions(options())).rejects.toThrow(/make\.binDirectory "\/usr\/exim\/bin;id>\/tmp\/pwn" is not a plain absolute path/);
    await manifest((m) => (m.make.eximUser = 'exim\nLDFLAGS=-evil'));
    await expect(fromBuildOptions(options())).rejects.toThrow(/^build\.json make\.eximUser "exim\\nLDFLAGS=-evil" is not a valid user name$/);
  });

  it('uses the built tree only for the same machine kind, the same inputs and the recorded digest', async () => {
    const tree = path.join(dir, 'exim-4.98.2-build.tar.gz');
    await writeFile(tree, 'tree bytes');
    const good = await manifest();
    good.treeSha256 = await sha256File(tree);
    const ctx = { inputsKey: good.inputsKey } as InstallContext;
    expect(await checkPrebuilt(ctx, good, dir)).toBe(tree);
    await expect(checkPrebuilt(ctx, { ...good, treeSha256: '0'.repeat(64) }, dir)).rejects.toThrow(/exim-4\.98\.2-build\.tar\.gz does not match build\.json/);
    await expect(checkPrebuilt({ inputsKey: 'other' } as InstallContext, good, dir)).rejects.toThrow(/built from another tarball than the one this run verified \(inputs f2c8abfcc383e2f8, here other\)/);
    await expect(checkPrebuilt(ctx, { ...good, machine: { arch: 'plan9-mips', os: 'none 0' } }, dir)).rejects.toThrow(/built for plan9-mips, none 0; this machine is /);
  });
});

describe('--export-build DIR', () => {
  it('replaces only an earlier export or an empty directory', async () => {
    await checkExportTarget(path.join(dir, 'new'));
    await checkExportTarget(dir);
    await mkdir(path.join(dir, 'home'));
    await writeFile(path.join(dir, 'home', 'notes.txt'), 'mine');
    await expect(checkExportTarget(path.join(dir, 'home'))).rejects.toThrow(/the directory exists and is not a labctl build export \(no build\.json\)/);
    await manifest();
    await checkExportTarget(dir);
  });

  it('refuses a file, which the swap would otherwise have removed', async () => {
    const file = path.join(dir, 'thesis.pdf');
    await writeFile(file, 'my thesis');
    await expect(checkExportTarget(file)).rejects.toThrow(/^--export-build .*thesis\.pdf: it is a file, not a directory$/);
    expect(await readFile(file, 'utf8')).toBe('my thesis');
  });

  it('an earlier export of this build is current only while its files are whole', async () => {
    await mkdir(path.join(dir, 'exim4'));
    const files = { tarball: 'exim4/exim-4.98.2.tar.xz', tree: 'exim-4.98.2-build.tar.gz' };
    await writeFile(path.join(dir, files.tarball), 'tarball bytes');
    await writeFile(path.join(dir, `${files.tarball}.asc`), 'signature');
    await writeFile(path.join(dir, files.tree), 'tree bytes');
    const tarballSha256 = await sha256File(path.join(dir, files.tarball));
    const treeSha256 = await sha256File(path.join(dir, files.tree));
    await manifest((m) => Object.assign(m, files, { tarballSha256, treeSha256 }));
    expect((await currentExport(dir, 'f2c8abfcc383e2f8'))?.version).toBe('4.98.2');
    expect(await currentExport(dir, 'other inputs')).toBeUndefined();
    await writeFile(path.join(dir, files.tree), 'tree by');
    expect(await currentExport(dir, 'f2c8abfcc383e2f8')).toBeUndefined();
    await writeFile(path.join(dir, files.tree), 'tree bytes');
    await rm(path.join(dir, `${files.tarball}.asc`));
    expect(await currentExport(dir, 'f2c8abfcc383e2f8')).toBeUndefined();
  });
});
