/**
 * labctl uninstall's pure parts (which names are make install's, what the kept list says, dpkg's
 * refusal read back), and its programs step run for real on a scratch BIN_DIRECTORY and state
 * directory: it removes make install's programs and install.json, leaves what is not Exim's, a
 * second run finds it done, and a run interrupted half-way is finished by the next.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dependentsIn, dpkgRefusal } from '../../../src/system/mta-package.js';
import { runSteps } from '../../../src/steps/runner.js';
import type { StepRecord } from '../../../src/steps/types.js';
import type { UninstallContext } from '../../../src/uninstall/context.js';
import { countQueued, formatKept, isFrozen, keptItems, type KeptFacts } from '../../../src/uninstall/kept.js';
import { splitPrograms } from '../../../src/uninstall/programs.js';
import { programs } from '../../../src/uninstall/steps/programs.js';

// /usr/exim/bin after make install of 4.96, then of 4.98.2 over it (exim_install keeps each replaced utility as NAME.O).
const AFTER_TWO_INSTALLS = [
  'exicyclog', 'exicyclog.O', 'exigrep', 'exigrep.O', 'exim', 'exim-4.96-2', 'exim-4.98.2-2', 'exim_checkaccess', 'exim_checkaccess.O',
  'exim_dbmbuild', 'exim_dbmbuild.O', 'exim_dumpdb', 'exim_dumpdb.O', 'exim_fixdb', 'exim_fixdb.O', 'exim_id_update', 'exim_id_update.O',
  'exim_lock', 'exim_lock.O', 'exim_msgdate', 'exim_msgdate.O', 'exim_tidydb', 'exim_tidydb.O', 'eximstats', 'eximstats.O', 'exinext',
  'exinext.O', 'exipick', 'exipick.O', 'exiqgrep', 'exiqgrep.O', 'exiqsumm', 'exiqsumm.O', 'exiwhat', 'exiwhat.O',
];
const NOT_EXIMS = ['exim.conf', 'exim-backup.sh', 'my-filter', 'exim-4.98.2-2.bak', 'eximon.sh'];

describe("make install's programs", () => {
  it('are every name Exim installs, of each release, with the .O copies; nothing else', () => {
    const { programs: p, others } = splitPrograms([...NOT_EXIMS, ...AFTER_TWO_INSTALLS]);
    expect(p).toEqual([...AFTER_TWO_INSTALLS].sort());
    expect(others).toEqual([...NOT_EXIMS].sort());
  });
});

describe('what uninstall keeps', () => {
  const all = (queued?: number): KeptFacts => ({
    configureFile: '/usr/exim/configure',
    spoolDirectory: '/var/spool/exim',
    queued,
    present: new Set(['/usr/exim/configure', '/var/spool/exim', '/var/mail', '/var/lib/labctl', '/var/cache/labctl', '/var/lib/labctl/build']),
  });

  it('counts one queued message per -H file', () => {
    expect(countQueued(['1tXYZa-000123-AB-H', '1tXYZa-000123-AB-D', 'hdr-H', 'x-J', 'db'])).toBe(2);
    expect(isFrozen('1xa23H-000000002Xm-2AGs-H\nroot 0 0\n<root@st14.sne24.ru>\n1733450000 0\n-local\n-frozen 1733450001\n')).toBe(true);
    expect(isFrozen('1xa23H-000000002Xm-2AGs-H\nroot 0 0\n-local\n')).toBe(false);
  });

  it('names each kept path, and how many queued messages stay and that install delivers them', () => {
    const text = formatKept(keptItems(all(3)));
    for (const p of ['/usr/exim/configure', '/var/spool/exim', '/var/mail', '/var/lib/labctl', '/var/cache/labctl', '/var/lib/labctl/build']) expect(text).toContain(p);
    expect(text).toContain('3 queued messages: they stay, and a later labctl install delivers them');
    expect(formatKept(keptItems(all(1)))).toContain('1 queued message: it stays');
    expect(formatKept(keptItems(all(0)))).toContain('the queue is empty');
    expect(formatKept(keptItems(all()))).toContain('queued mail and logs');
    expect(formatKept(keptItems({ ...all(3), frozen: 1 }))).toContain('3 queued messages, 1 frozen: they stay, and a later labctl install delivers them; exim -Mt ID thaws a frozen one)');
    expect(formatKept(keptItems({ ...all(1), frozen: 1 }))).toContain('1 queued message, frozen: it stays');
    expect(formatKept(keptItems({ ...all(2), frozen: 2 }))).toContain('2 queued messages, all frozen: they stay');
  });

  it('lists only what is there', () => {
    const items = keptItems({ ...all(0), present: new Set(['/var/mail']) });
    expect(items.map((k) => k.path)).toEqual(['/var/mail']);
    expect(formatKept([])).toMatch(/nothing/);
  });
});

describe("dpkg's refusal to remove labctl-exim", () => {
  // As dpkg 1.22 prints it in the container smoke run (bsd-mailx installed, labctl-exim its only MTA).
  const out = [
    'dpkg: dependency problems prevent removal of labctl-exim:',
    ' bsd-mailx depends on default-mta | mail-transport-agent; however:',
    '  Package default-mta is not installed.',
    '  Package mail-transport-agent is not installed.',
    '  Package labctl-exim which provides mail-transport-agent is to be removed.',
    ' cron-daemon-common:amd64 depends on default-mta | mail-transport-agent; however:',
    '  Package default-mta is not installed.',
    '',
    'dpkg: error processing package labctl-exim (--remove):',
    ' dependency problems - not removing',
    'Errors were encountered while processing:',
    ' labctl-exim',
  ].join('\n');
  it('is read as the packages that depend on it', () => {
    const r = dpkgRefusal(out);
    expect(r).toBe('bsd-mailx depends on default-mta | mail-transport-agent; cron-daemon-common:amd64 depends on default-mta | mail-transport-agent');
    expect(dependentsIn(r)).toEqual(['bsd-mailx', 'cron-daemon-common']);
  });
  it('falls back to its first line', () => {
    expect(dpkgRefusal('dpkg: error: some other trouble\n')).toBe('dpkg: error: some other trouble');
  });
});

describe('the programs step, on a scratch BIN_DIRECTORY', () => {
  let dir: string;
  let ctx: UninstallContext;
  const saved = process.env.LABCTL_STATE_DIR;
  const quiet = { record: (_: StepRecord) => {}, note: () => {} };
  const statuses = async (mode: 'check' | 'apply') => (await runSteps([programs], ctx, mode, quiet)).map((r) => r.status);
  const record = () => path.join(dir, 'state', 'install.json');

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-uninstall-'));
    process.env.LABCTL_STATE_DIR = path.join(dir, 'state');
    const bin = path.join(dir, 'bin');
    await fs.mkdir(bin);
    await fs.mkdir(path.join(dir, 'state'));
    for (const n of AFTER_TWO_INSTALLS.filter((n) => n !== 'exim')) await fs.writeFile(path.join(bin, n), '#!/bin/sh\n');
    await fs.symlink('exim-4.98.2-2', path.join(bin, 'exim'));
    await fs.writeFile(record(), JSON.stringify({ schemaVersion: 1, version: '4.98.2' }));
    ctx = { binDirectory: bin, configureFile: path.join(dir, 'configure'), systemd: false, planning: false, note: () => {} };
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env.LABCTL_STATE_DIR;
    else process.env.LABCTL_STATE_DIR = saved;
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('plans without changing, removes programs, directory and install.json, then has nothing to do', async () => {
    expect(await statuses('check')).toEqual(['changed']);
    expect((await fs.readdir(ctx.binDirectory)).length).toBe(AFTER_TWO_INSTALLS.length);
    expect(await statuses('apply')).toEqual(['changed']);
    await expect(fs.stat(ctx.binDirectory)).rejects.toThrow(/ENOENT/);
    await expect(fs.stat(record())).rejects.toThrow(/ENOENT/);
    expect(await statuses('apply')).toEqual(['ok']);
  });

  it('leaves what is not Exim\'s, and the directory holding it', async () => {
    await fs.writeFile(path.join(ctx.binDirectory, 'my-filter'), 'mine\n');
    expect(await statuses('apply')).toEqual(['changed']);
    expect(await fs.readdir(ctx.binDirectory)).toEqual(['my-filter']);
    const [again] = await runSteps([programs], ctx, 'apply', quiet);
    expect(again!.status).toBe('ok');
    expect(again!.detail).toContain('left alone (not make install\'s): my-filter');
  });

  it('finishes a run interrupted half-way (some programs gone, the empty directory left)', async () => {
    for (const n of AFTER_TWO_INSTALLS.slice(0, 10)) await fs.rm(path.join(ctx.binDirectory, n));
    expect(await statuses('apply')).toEqual(['changed']);
    expect(await statuses('apply')).toEqual(['ok']);
    await fs.mkdir(ctx.binDirectory);
    expect(await statuses('check')).toEqual(['changed']);
    expect(await statuses('apply')).toEqual(['changed']);
    await expect(fs.stat(ctx.binDirectory)).rejects.toThrow(/ENOENT/);
  });
});
