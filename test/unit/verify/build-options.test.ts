import { describe, expect, it } from 'vitest';
import { parseBv } from '../../../src/system/exim.js';
import { judgeBuild } from '../../../src/verify/checks/install.js';

// The lines `exim -bV` prints for these (a 4.98.2 build with and without AUTH_PLAINTEXT).
const bv = (auths: string) => `Exim version 4.98.2 #2 built 06-Dec-2026 01:35:38
Support for: crypteq iconv() IPv6 OpenSSL DKIM DNSSEC ESMTP_Limits ESMTP_Wait_Pipelining PIPECONNECT PRDR SPF DMARC TLS_resume
Lookups (built-in): lsearch wildlsearch nwildlsearch iplsearch dbm dbmjz dbmnz dnsdb
Authenticators:${auths}
Routers: accept dnslookup ipliteral manualroute queryprogram redirect
Configuration file is /usr/exim/configure
`;
const full = [
  { name: 'USE_OPENSSL', value: 'yes' },
  { name: 'AUTH_PLAINTEXT', value: 'yes' },
  { name: 'SUPPORT_SPF', value: 'yes' },
  { name: 'SUPPORT_DMARC', value: 'yes' },
];

describe('1d-build-options: what install asked for', () => {
  it('reads the Authenticators line of exim -bV', () => {
    expect(parseBv(bv(' plaintext')).authenticators).toEqual(['plaintext']);
    expect(parseBv(bv('')).authenticators).toEqual([]);
  });

  it('a build asked for the plaintext authenticator (submission) fails without it', () => {
    const without = parseBv(bv(''));
    expect(judgeBuild(full, without.supportFor, without.authenticators).missing).toEqual(['the plaintext authenticator']);
    const withIt = parseBv(bv(' plaintext'));
    const judged = judgeBuild(full, withIt.supportFor, withIt.authenticators);
    expect(judged.missing).toEqual([]);
    expect(judged.asked).toEqual(['SPF', 'DMARC', 'the plaintext authenticator']);
  });

  it('a build not asked for it (an install record from before) is not failed for lacking it', () => {
    const old = parseBv(bv(''));
    expect(judgeBuild(full.filter((s) => s.name !== 'AUTH_PLAINTEXT'), old.supportFor, old.authenticators).missing).toEqual([]);
  });
});
