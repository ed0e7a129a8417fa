import { describe, expect, it } from 'vitest';
import { installedIn, installedPackages, packageQuery } from '../../../src/system/apt.js';
import { globMatches, packageStates, parsePackageStates, simplePatterns } from '../../../src/system/dpkg-status.js';
import { run } from '../../../src/system/run.js';

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
