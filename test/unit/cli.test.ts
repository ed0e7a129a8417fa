import { describe, expect, it } from 'vitest';
import { labctl } from '../helpers/cli.js';
import { scratchLockDir } from '../helpers/lock-dir.js';

scratchLockDir();

describe('labctl command line', () => {
  it('lists every subcommand with a description', async () => {
    const r = await labctl(['--help']);
    expect(r.exitCode).toBe(0);
    for (const cmd of ['install', 'configure', 'dns', 'verify', 'lab', 'report', 'service']) expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\b.*\\S`, 'm'));
  });

  it('hands --version after a subcommand to that subcommand', async () => {
    const r = await labctl(['install', '--version', '4.x', '--dry-run']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--version "4.x" is not an Exim version');
    const v = await labctl(['--version']);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('prints an expected failure as one or two lines, a stack only with --debug', async () => {
    const r = await labctl(['install', '--with', 'ldap', '--dry-run']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['labctl: --with ldap: unknown feature', '  known: spf, dmarc']);
    const d = await labctl(['install', '--with', 'ldap', '--dry-run', '--debug']);
    expect(d.stderr).toMatch(/at toOptions/);
  });
});
