import { describe, expect, it } from 'vitest';
import { newestFirst } from '../../../src/source/candidates.js';
import { derivedSourceLines, parseAptSources, parseShowsrc } from '../../../src/source/debian-index.js';

const DEB822 = `Types: deb
URIs: http://archive.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://archive.example/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: https://disabled.example/apt
Suites: nodistro
Enabled: no
`;

describe('deb-src lines derived from the machine\'s apt sources', () => {
  it('keeps the archive URI and its keyring, adds the later suites, drops security and update pockets', () => {
    const entries = parseAptSources([{ name: '/etc/apt/sources.list.d/debian.sources', text: DEB822 }]);
    expect(derivedSourceLines(entries, 'debian')).toEqual([
      'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://archive.example/debian bookworm main',
      'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://archive.example/debian stable main',
      'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://archive.example/debian testing main',
      'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://archive.example/debian unstable main',
    ]);
  });

  it('reads one-line .list entries, and on Ubuntu adds the development series', () => {
    const entries = parseAptSources([{ name: '/etc/apt/sources.list', text: '# comment\ndeb http://ubuntu.example/ubuntu noble main universe\ndeb http://ubuntu.example/ubuntu noble-security main\n' }]);
    expect(derivedSourceLines(entries, 'ubuntu')).toEqual(['deb-src http://ubuntu.example/ubuntu noble main', 'deb-src http://ubuntu.example/ubuntu devel main']);
  });

  it('derives nothing from a machine without an archive', () => {
    expect(derivedSourceLines(parseAptSources([{ name: 'x.sources', text: 'Types: deb\nURIs: file:/cdrom\nSuites: bookworm\n' }]), 'debian')).toEqual([]);
  });
});

const SHOWSRC = `Package: exim4
Version: 4.96-15+deb12u10
Directory: pool/main/e/exim4
Checksums-Sha256:
 1111111111111111111111111111111111111111111111111111111111111111 2500 exim4_4.96-15+deb12u10.dsc
 299a56927b2eb3477daafd3c5bda02bc67e5c4e5898a7aeaf2740875278cf1a3 1879152 exim4_4.96.orig.tar.xz
 9d868dbe6ef823dd563371dc0aadbe58475cd6e42ac8998bfb2b922db3f0fdd0 508 exim4_4.96.orig.tar.xz.asc
 2222222222222222222222222222222222222222222222222222222222222222 500000 exim4_4.96-15+deb12u10.debian.tar.xz

Package: exim4
Version: 4.100.1-4
Directory: pool/main/e/exim4
Checksums-Sha256:
 e9fb41f6724a5b136d64c9d19dbc5f26494af879a3e7e3190f91639eaa79fa0d 2007956 exim4_4.100.1.orig.tar.xz
 a94a658998ff794a93db399b9310a60e2382389d9c105de7899293967c93f787 252 exim4_4.100.1.orig.tar.xz.asc

Package: exim4
Version: 4.98.2-1+deb13u4
Directory: pool/main/e/exim4
Checksums-Sha256:
 88b8e8a67c1db6cc0b1d148161aa36e662f4ca2fef25d5b6f3694d490e42dcae 1929020 exim4_4.98.2.orig.tar.xz
 07eb7aa757b689cffdab0b352039b998327cef100e5663f5749b578fdd367a46 488 exim4_4.98.2.orig.tar.xz.asc

Package: exim4
Version: 4.92-8+deb10u9
Directory: pool/main/e/exim4
Checksums-Sha256:
 3333333333333333333333333333333333333333333333333333333333333333 1800000 exim4_4.92.orig.tar.xz
`;

describe('apt-cache showsrc', () => {
  it('yields each upstream release with the orig tarball\'s and .asc\'s digests from the signed index', () => {
    const found = parseShowsrc(SHOWSRC);
    expect(found.map((f) => [f.version, f.debianVersion, !!f.asc])).toEqual([
      ['4.96', '4.96-15+deb12u10', true],
      ['4.100.1', '4.100.1-4', true],
      ['4.98.2', '4.98.2-1+deb13u4', true],
      ['4.92', '4.92-8+deb10u9', false],
    ]);
    expect(found[0].tarball).toEqual({ name: 'exim4_4.96.orig.tar.xz', sha256: '299a56927b2eb3477daafd3c5bda02bc67e5c4e5898a7aeaf2740875278cf1a3', size: 1879152 });
    expect(found[0].directory).toBe('pool/main/e/exim4');
  });
});

describe('candidate ordering across sources', () => {
  it('puts the newest first per component (4.100.1 after 4.99), drops release candidates and duplicates', () => {
    const c = (version: string, from: string) => ({ version, format: 'xz' as const, tarballUrl: `${from}/${version}`, ascUrl: '' });
    const ordered = newestFirst([c('4.96', 'debian'), c('4.100.1', 'debian'), c('4.99-RC2', 'mirror'), c('4.98.2', 'debian'), c('4.98.2', 'mirror'), c('4.99', 'mirror')]);
    expect(ordered.map((x) => x.version)).toEqual(['4.100.1', '4.99', '4.98.2', '4.96']);
    expect(ordered.find((x) => x.version === '4.98.2')!.tarballUrl).toBe('debian/4.98.2');
  });
});
