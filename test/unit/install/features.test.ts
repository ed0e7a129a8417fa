/** Which features labctl install builds: all by default, --without for the write-up's minimal build. */
import { describe, expect, it } from 'vitest';
import { buildFeatures } from '../../../src/commands/actions/install.js';
import { labSettings } from '../../../src/install/makefile.js';
import { labctlHere } from '../../helpers/cli.js';
import { scratchLockDir } from '../../helpers/lock-dir.js';

scratchLockDir();
const flags = (o: { with?: string[]; without?: string[]; fromBuild?: string }) => ({ with: o.with ?? [], without: o.without ?? [], fromBuild: o.fromBuild });
const dirs = { eximUser: 'exim', binDirectory: '/usr/exim/bin', configureFile: '/usr/exim/configure' };

describe('install features', () => {
  it('builds SPF and DMARC by default, and --with names what the default has', () => {
    expect(buildFeatures(flags({}))).toEqual({ spf: true, dmarc: true });
    expect(buildFeatures(flags({ with: ['dmarc'] }))).toEqual({ spf: true, dmarc: true });
    expect(buildFeatures(flags({ with: ['spf'] }))).toEqual({ spf: true, dmarc: true });
    const settings = labSettings({ ...dirs, ...buildFeatures(flags({})) }).map((s) => `${s.name}${s.op}${s.value}`);
    expect(settings).toEqual(expect.arrayContaining(['SUPPORT_SPF=yes', 'LDFLAGS+=-lspf2', 'SUPPORT_DMARC=yes', 'LDFLAGS+=-lopendmarc', 'DMARC_API=100400']));
  });

  it('--without dmarc keeps SPF; --without spf drops DMARC too (the write-up\'s minimal build)', () => {
    expect(buildFeatures(flags({ without: ['dmarc'] }))).toEqual({ spf: true, dmarc: false });
    expect(buildFeatures(flags({ without: ['spf'] }))).toEqual({ spf: false, dmarc: false });
    expect(buildFeatures(flags({ without: ['spf', 'dmarc'] }))).toEqual({ spf: false, dmarc: false });
    const minimal = labSettings({ ...dirs, ...buildFeatures(flags({ without: ['spf', 'dmarc'] })) }).map((s) => s.name);
    // The plaintext authenticator stays: configure's submission needs it whatever the build's extras.
    expect(minimal).toEqual(['BIN_DIRECTORY', 'CONFIGURE_FILE', 'EXIM_USER', 'USE_OPENSSL', 'TLS_LIBS', 'AUTH_PLAINTEXT']);
  });

  it('with --from-build the build decides: --with only asks for a feature, --without is refused', () => {
    expect(buildFeatures(flags({ fromBuild: '/x' }))).toEqual({ spf: false, dmarc: false });
    expect(buildFeatures(flags({ fromBuild: '/x', with: ['dmarc'] }))).toEqual({ spf: false, dmarc: true });
    expect(() => buildFeatures(flags({ fromBuild: '/x', without: ['spf'] }))).toThrow(/--from-build installs the features its build was made with/);
  });

  it('refuses an unknown feature and contradictions on the command line, in one line with a hint', async () => {
    const unknown = await labctlHere(['install', '--without', 'ldap', '--dry-run']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toEqual(['labctl: --without ldap: unknown feature', '  known: spf, dmarc']);
    const both = await labctlHere(['install', '--with', 'spf', '--without', 'spf', '--dry-run']);
    expect(both.exitCode).toBe(2);
    expect(both.stderr.trim().split('\n')).toEqual(['labctl: --with spf and --without spf contradict each other', '  drop one of them']);
    const dmarc = await labctlHere(['install', '--with', 'dmarc', '--without', 'spf', '--dry-run']);
    expect(dmarc.exitCode).toBe(2);
    expect(dmarc.stderr).toContain('--with dmarc needs SPF, which --without spf drops');
  });
});
