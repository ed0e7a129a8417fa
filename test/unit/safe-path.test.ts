/** Escaping by destination: a systemd unit and a Makefile get only plain absolute paths (issue 12, item 5). */
import { describe, expect, it } from 'vitest';
import { renderMakefile } from '../../src/install/makefile.js';
import { safePath } from '../../src/safe-names.js';
import { renderUnit } from '../../src/install/service-unit.js';

const HOSTILE = [
  '/usr/exim/bin\nExecStartPre=/bin/sh -c "rm -rf /"',
  '/usr/exim/bin; rm -rf /',
  '/usr/exim/$(id)',
  '/usr/exim/bin #comment',
  "/usr/exim/it's",
  'relative/path',
  '/usr/exim/../../etc',
  '/usr/exim/bin\\',
];

describe('paths into a unit or a Makefile', () => {
  it('accepts plain absolute paths', () => {
    expect(safePath('x', '/usr/exim/bin')).toBe('/usr/exim/bin');
    expect(safePath('x', '/opt/exim-4.98.2/etc/configure_lab')).toBe('/opt/exim-4.98.2/etc/configure_lab');
  });

  it.each(HOSTILE)('refuses %j in the systemd unit', async (p) => {
    await expect(renderUnit({ binary: p, queueInterval: '30m', configureFile: '/usr/exim/configure', spoolDirectory: '/var/spool/exim', envFile: '/var/lib/labctl/exim.env' })).rejects.toThrow(/is not a plain absolute path/);
  });

  it.each(HOSTILE)('refuses %j in the Makefile', async (p) => {
    await expect(renderMakefile('# EDITME\n', '4.98.2', { binDirectory: p, configureFile: '/usr/exim/configure', eximUser: 'exim', spf: false })).rejects.toThrow(/is not a plain absolute path/);
  });

  it('refuses a queue interval and a user name that are not what they claim', async () => {
    await expect(renderUnit({ binary: '/usr/exim/bin/exim', queueInterval: '30m\nUser=root', configureFile: '/usr/exim/configure', spoolDirectory: '/var/spool/exim', envFile: '/e' })).rejects.toThrow(/queue interval/);
    await expect(renderMakefile('', '4.98.2', { binDirectory: '/usr/exim/bin', configureFile: '/usr/exim/configure', eximUser: 'exim\nLDFLAGS=-evil', spf: false })).rejects.toThrow(/EXIM_USER/);
  });
});
