/**
 * --from-build's manifest (src/install/prebuilt.ts): what is accepted, what the build decides
 * (version and Makefile settings), and what is refused, each with the one line the user sees.
 * Runs against scratch directories.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InstallContext, InstallOptions } from '../../../src/install/context.js';
import { checkExportTarget } from '../../../src/install/export-build.js';
import { readManifest, type BuildManifest } from '../../../src/install/build-manifest.js';
import { currentExport, eximInstallEnv, fromBuildOptions, stagePrebuilt } from '../../../src/install/prebuilt.js';
import { packDirectory, sha256File } from '../../../src/system/files.js';
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

/** build.json's digest as the controller computes it (sha256sum build.json). */
const digest = async () => createHash('sha256').update(await readFile(path.join(dir, 'build.json'))).digest('hex');
/** The options of `--from-build DIR --sha256 <build.json's digest now>`. */
const signed = async (o: Partial<InstallOptions> = {}) => options({ fromBuildSha256: await digest(), ...o });

describe('--from-build DIR', () => {
  it('takes the version and every Makefile setting from the build, and DIR/exim4 as the mirror', async () => {
    await manifest();
    const { o, manifest: read } = await fromBuildOptions(await signed());
    expect(read?.builtOn).toBe('st14');
    expect(o).toMatchObject({ source: 'mirror', mirror: path.join(dir, 'exim4'), version: '4.98.2', spf: true, dmarc: true, binDirectory: '/opt/exim/bin', configureFile: '/opt/exim/configure', eximUser: 'exim' });
  });

  it('refuses a feature the build lacks, and another version', async () => {
    await manifest((m) => (m.make = { ...m.make, dmarc: false, spf: false }));
    await expect(fromBuildOptions(await signed({ dmarc: true }))).rejects.toThrow(/^--with dmarc: the build in .* was made without it$/);
    await expect(fromBuildOptions(await signed({ version: '4.96' }))).rejects.toThrow(/^--version 4\.96 and --from-build .* \(Exim 4\.98\.2\) disagree$/);
  });

  it('refuses a missing or broken manifest, and names and paths that would leave DIR or reach the Makefile', async () => {
    await expect(readManifest(dir)).rejects.toThrow(/no build\.json there/);
    await writeFile(path.join(dir, 'build.json'), '{');
    await expect(readManifest(dir)).rejects.toThrow(/build\.json is not valid JSON/);
    await manifest((m) => (m.tree = '../../etc/shadow'));
    await expect(readManifest(dir)).rejects.toThrow(/is not a labctl build manifest/);
    await manifest((m) => ((m as { schema: unknown }).schema = '1'));
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
    await expect(fromBuildOptions(await signed())).rejects.toThrow(/make\.binDirectory "\/usr\/exim\/bin;id>\/tmp\/pwn" is not a plain absolute path/);
    await manifest((m) => (m.make.eximUser = 'exim\nLDFLAGS=-evil'));
    await expect(fromBuildOptions(await signed())).rejects.toThrow(/^build\.json make\.eximUser "exim\\nLDFLAGS=-evil" is not a valid user name$/);
  });

  it('accepts nothing without the digest of build.json from the caller: a tampered tree with build.json made to match is refused', async () => {
    const tree = path.join(dir, 'exim-4.98.2-build.tar.gz');
    await writeFile(tree, 'the tree the controller fetched');
    await manifest((m) => (m.treeSha256 = createHash('sha256').update('the tree the controller fetched').digest('hex')));
    const controllers = await digest();
    await expect(fromBuildOptions(options())).rejects.toThrow(/^--from-build .* needs --sha256 DIGEST: the sha256 of its build\.json, computed where the export was made or collected$/);
    await expect(fromBuildOptions(options({ fromBuildSha256: 'not hex' }))).rejects.toThrow(/needs --sha256 DIGEST/);
    // The attack: another tree, and build.json rewritten with that tree's digest (self-consistent).
    await writeFile(tree, 'a tree with a backdoor');
    await manifest((m) => (m.treeSha256 = createHash('sha256').update('a tree with a backdoor').digest('hex')));
    await expect(fromBuildOptions(options({ fromBuildSha256: controllers }))).rejects.toThrow(/^--from-build .*: build\.json has sha256 [0-9a-f]{64}, not the [0-9a-f]{64} given with --sha256$/);
    // The export as the controller saw it is accepted with the controller's digest.
    await manifest((m) => (m.treeSha256 = createHash('sha256').update('the tree the controller fetched').digest('hex')));
    expect(await digest()).toBe(controllers);
    expect((await fromBuildOptions(options({ fromBuildSha256: controllers }))).manifest?.builtOn).toBe('st14');
  });

  /** A built tree as --export-build packs it: exim-4.98.2/ with a build directory of objects and programs. */
  async function builtTree(change: (build: string) => Promise<void> = async () => {}): Promise<string> {
    const work = await mkdtemp(path.join(os.tmpdir(), 'labctl-tree-'));
    const build = path.join(work, 'exim-4.98.2', 'build-Linux-x86_64');
    await mkdir(build, { recursive: true });
    for (const name of ['exim', 'exim_lock', 'exicyclog']) await writeFile(path.join(build, name), `#!/bin/sh\necho ${name}\n`, { mode: 0o755 });
    await writeFile(path.join(build, 'Makefile'), 'BIN_DIRECTORY=/tmp/evil\nCHOWN_COMMAND=/tmp/evil-chown\n');
    await writeFile(path.join(build, 'exim.o'), 'object');
    await writeFile(path.join(work, 'exim-4.98.2', 'Makefile'), 'install: all\n');
    await change(build);
    await packDirectory(path.join(work, 'exim-4.98.2'), path.join(dir, 'exim-4.98.2-build.tar.gz'));
    await rm(work, { recursive: true, force: true });
    return sha256File(path.join(dir, 'exim-4.98.2-build.tar.gz'));
  }

  it('takes only the built programs and the build Makefile from the tree, for the same machine kind, inputs and recorded digest', async () => {
    const good = await manifest();
    good.treeSha256 = await builtTree();
    const ctx = { inputsKey: good.inputsKey } as InstallContext;
    const staged = await stagePrebuilt(ctx, good, dir);
    const src = path.join(dir, 'src', 'exim-4.98.2');
    try {
      expect(staged.buildDir).toBe('build-Linux-x86_64');
      expect(staged.programs.sort()).toEqual(['exicyclog', 'exim', 'exim_lock']);
      await staged.place(src);
    } finally {
      await staged.dispose();
    }
    // No object, no top-level Makefile: nothing that `make` would run.
    expect((await readdir(path.join(src, 'build-Linux-x86_64'))).sort()).toEqual(['Makefile', 'exicyclog', 'exim', 'exim_lock']);
    expect((await readdir(src)).sort()).toEqual(['build-Linux-x86_64']);
    expect((await lstat(path.join(src, 'build-Linux-x86_64', 'exim'))).mode & 0o7777).toBe(0o755);
    await expect(stagePrebuilt(ctx, { ...good, treeSha256: '0'.repeat(64) }, dir)).rejects.toThrow(/exim-4\.98\.2-build\.tar\.gz does not match build\.json/);
    await expect(stagePrebuilt({ inputsKey: 'other' } as InstallContext, good, dir)).rejects.toThrow(/built from another tarball than the one this run verified \(inputs f2c8abfcc383e2f8, here other\)/);
    await expect(stagePrebuilt(ctx, { ...good, machine: { arch: 'plan9-mips', os: 'none 0' } }, dir)).rejects.toThrow(/built for plan9-mips, none 0; this machine is /);
  });

  it('refuses a program that is a symlink, and a tree without exim', async () => {
    const good = await manifest();
    const ctx = { inputsKey: good.inputsKey } as InstallContext;
    good.treeSha256 = await builtTree(async (build) => {
      await rm(path.join(build, 'exim_lock'));
      await symlink('exim', path.join(build, 'exim_lock'));
    });
    await expect(stagePrebuilt(ctx, good, dir)).rejects.toThrow(/build-Linux-x86_64\/exim_lock is not a regular file/);
    good.treeSha256 = await builtTree(async (build) => rm(path.join(build, 'exim')));
    await expect(stagePrebuilt(ctx, good, dir)).rejects.toThrow(/has no build-Linux-x86_64\/exim/);
  });

  it("gives Exim's install script labctl's paths and commands, not the tree's Makefile's", () => {
    expect(eximInstallEnv({ binDirectory: '/usr/exim/bin', configureFile: '/usr/exim/configure' }, 'build-Linux-x86_64')).toEqual({
      build: 'Linux-x86_64',
      INST_BIN_DIRECTORY: '/usr/exim/bin',
      INST_CONFIGURE_FILE: '/usr/exim/configure',
      INST_SYSTEM_ALIASES_FILE: '/etc/aliases',
      INST_CHOWN: '/usr/bin/chown',
      INST_MV: '/usr/bin/mv',
      INST_UID: 'root',
    });
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
