import { describe, expect, it } from 'vitest';
import { applySettings, labSettings, renderMakefile } from '../../src/install/makefile.js';
import { unifiedDiff } from '../../src/ui/diff.js';

const EDITME = [
  '# Exim build settings',
  'BIN_DIRECTORY=/usr/exim/bin',
  'CONFIGURE_FILE=/usr/exim/configure',
  'EXIM_USER=',
  '# EXIM_USER=ref:exim',
  '# USE_OPENSSL=yes',
  '# TLS_LIBS=-lssl -lcrypto',
  '# TLS_LIBS=-lgnutls',
  '# AUTH_CRAM_MD5=yes',
  '# AUTH_PLAINTEXT=yes',
  '# AUTH_SPA=yes',
  '# SUPPORT_SPF=yes',
  '# LDFLAGS += -lopendmarc',
  '# LDFLAGS += -lspf2',
  '',
].join('\n');

const base = { eximUser: 'exim', binDirectory: '/usr/exim/bin', configureFile: '/usr/exim/configure', spf: false };

describe('Local/Makefile', () => {
  it('applies the lab settings in place, keeping EDITME around them', () => {
    const lines = applySettings(EDITME, labSettings(base));
    expect(lines).toEqual([
      '# Exim build settings',
      'BIN_DIRECTORY=/usr/exim/bin',
      'CONFIGURE_FILE=/usr/exim/configure',
      'EXIM_USER=exim',
      '# EXIM_USER=ref:exim',
      'USE_OPENSSL=yes',
      'TLS_LIBS=-lssl -lcrypto',
      '# TLS_LIBS=-lgnutls',
      '# AUTH_CRAM_MD5=yes',
      'AUTH_PLAINTEXT=yes',
      '# AUTH_SPA=yes',
      '# SUPPORT_SPF=yes',
      '# LDFLAGS += -lopendmarc',
      '# LDFLAGS += -lspf2',
    ]);
  });

  it('turns on SPF with libspf2 only when asked', () => {
    const lines = applySettings(EDITME, labSettings({ ...base, spf: true }));
    expect(lines).toContain('SUPPORT_SPF=yes');
    expect(lines).toContain('LDFLAGS += -lspf2');
    expect(lines).toContain('# LDFLAGS += -lopendmarc');
  });

  it('honours other paths and appends settings EDITME lacks', () => {
    const lines = applySettings('# nothing here\n', labSettings({ ...base, binDirectory: '/opt/exim/bin' }));
    expect(lines.slice(-7)).toEqual([
      '# Added by labctl install',
      'BIN_DIRECTORY=/opt/exim/bin',
      'CONFIGURE_FILE=/usr/exim/configure',
      'EXIM_USER=exim',
      'USE_OPENSSL=yes',
      'TLS_LIBS=-lssl -lcrypto',
      'AUTH_PLAINTEXT=yes',
    ]);
  });

  it('renders the template with a header naming the settings', async () => {
    const text = await renderMakefile(EDITME, '4.96', base);
    expect(text).toMatch(/^# Local\/Makefile for Exim 4\.96/);
    expect(text).toContain('#   TLS_LIBS=-lssl -lcrypto');
    expect(text).toContain('\nEXIM_USER=exim\n');
  });

  it('diffs EDITME against the rendered lines', () => {
    const after = applySettings(EDITME, labSettings(base)).join('\n') + '\n';
    const diff = unifiedDiff(EDITME, after, { before: 'src/EDITME', after: 'Local/Makefile' });
    expect(diff).toContain('-EXIM_USER=\n+EXIM_USER=exim');
    expect(diff).toContain('-# USE_OPENSSL=yes\n-# TLS_LIBS=-lssl -lcrypto\n+USE_OPENSSL=yes\n+TLS_LIBS=-lssl -lcrypto');
    expect(diff).not.toMatch(/^[-+]BIN_DIRECTORY/m);
    expect(unifiedDiff('a\n', 'a\n', { before: 'x', after: 'y' })).toBe('');
    expect(unifiedDiff('a\nb\n', 'a\nc\n', { before: 'x', after: 'y' })).toBe('--- x\n+++ y\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n');
  });
});

describe('--with dmarc', () => {
  it('brings SPF along, links both libraries on their own lines, and sets the API of Debian 12 libopendmarc', async () => {
    const { labSettings: settings, renderMakefile: render } = await import('../../src/install/makefile.js');
    const names = settings({ eximUser: 'exim', binDirectory: '/usr/exim/bin', configureFile: '/usr/exim/configure', spf: false, dmarc: true }).map((s) => `${s.name}${s.op}${s.value}`);
    expect(names).toEqual(expect.arrayContaining(['SUPPORT_SPF=yes', 'LDFLAGS+=-lspf2', 'SUPPORT_DMARC=yes', 'LDFLAGS+=-lopendmarc', 'DMARC_API=100400']));
    const editme = ['# SUPPORT_SPF=yes', '# LDFLAGS += -lspf2', '# SUPPORT_DMARC=yes', '# LDFLAGS += -lopendmarc', '# DMARC_API=100300', ''].join('\n');
    const text = await render(editme, '4.98.2', { eximUser: 'exim', binDirectory: '/usr/exim/bin', configureFile: '/usr/exim/configure', spf: false, dmarc: true });
    expect(text).toMatch(/^LDFLAGS \+= -lspf2$/m);
    expect(text).toMatch(/^LDFLAGS \+= -lopendmarc$/m);
    expect(text).toMatch(/^DMARC_API=100400$/m);
  });

  it('refuses DMARC for a release whose EDITME has no DMARC_API (4.96), naming --without dmarc', async () => {
    const editme = ['# SUPPORT_SPF=yes', '# LDFLAGS += -lspf2', '# SUPPORT_DMARC=yes', '# LDFLAGS += -lopendmarc', ''].join('\n');
    const o = { eximUser: 'exim', binDirectory: '/usr/exim/bin', configureFile: '/usr/exim/configure', spf: true, dmarc: true };
    await expect(renderMakefile(editme, '4.96', o)).rejects.toMatchObject({ message: expect.stringContaining('Exim 4.96 cannot be built with DMARC here'), hint: expect.stringContaining('--without dmarc') });
    await expect(renderMakefile(editme, '4.96', { ...o, dmarc: false })).resolves.toMatch(/^SUPPORT_SPF=yes$/m);
  });
});
