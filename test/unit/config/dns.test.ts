import { readFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dnsRecords, renderZoneFragment, splitTxt, dkimPublicKeyBase64 } from '../../../src/config/dns.js';
import { validateModel } from '../../../src/config/validate.js';

const pem = (bits: number) => readFileSync(new URL(`../../../fixtures/config/dkim-${bits}.pub.pem`, import.meta.url), 'utf8');

const st14 = validateModel({
  domain: 'st14.sne24.ru',
  address: '192.168.122.190',
  backupMx: ['mail.st18.sne24.ru'],
  dmarcPolicy: 'none',
});

describe('dnsRecords', () => {
  it('gives A, MX 10 own host, MX 20 partner, SPF, DKIM, DMARC, TLS-RPT and MTA-STS (no TLSA without a certificate)', () => {
    const records = dnsRecords(st14, { dkimPublicKeyPem: pem(2048) });
    expect(records.map((r) => [r.name, r.type, r.priority ?? '', r.type === 'TXT' ? r.value.slice(0, 12) : r.value])).toEqual([
      ['mail.st14.sne24.ru', 'A', '', '192.168.122.190'],
      ['mta-sts.st14.sne24.ru', 'A', '', '192.168.122.190'],
      ['st14.sne24.ru', 'MX', 10, 'mail.st14.sne24.ru'],
      ['st14.sne24.ru', 'MX', 20, 'mail.st18.sne24.ru'],
      ['st14.sne24.ru', 'TXT', '', 'v=spf1 mx -a'],
      ['lab._domainkey.st14.sne24.ru', 'TXT', '', 'v=DKIM1; k=r'],
      ['_dmarc.st14.sne24.ru', 'TXT', '', 'v=DMARC1; p='],
      ['_smtp._tls.st14.sne24.ru', 'TXT', '', 'v=TLSRPTv1; '],
      ['_mta-sts.st14.sne24.ru', 'TXT', '', 'v=STSv1; id='],
    ]);
  });

  it('adds partners given as options and an AAAA record for IPv6', () => {
    const m = validateModel({ domain: 'st18.sne24.ru', address: '2001:db8::18' });
    const records = dnsRecords(m, { partners: [{ mailHost: 'mail.st14.sne24.ru', address: '192.168.122.190' }] });
    expect(records.filter((r) => r.type === 'MX').map((r) => `${r.priority} ${r.value}`)).toEqual(['10 mail.st18.sne24.ru', '20 mail.st14.sne24.ru']);
    // The partner's host lies outside this zone: no A record for it here.
    expect(records.filter((r) => (r.type === 'A' || r.type === 'AAAA') && r.name.startsWith('mail.'))).toEqual([
      { name: 'mail.st18.sne24.ru', type: 'AAAA', value: '2001:db8::18', purpose: 'the mail host (4a)' },
    ]);
  });

  it('splits a long DKIM key into strings of at most 255 bytes that join back to the key', () => {
    for (const bits of [2048, 4096]) {
      const dkim = dnsRecords(st14, { dkimPublicKeyPem: pem(bits) }).find((r) => r.name.startsWith('lab._domainkey'))!;
      expect(dkim.value.length).toBeGreaterThan(255);
      expect(dkim.strings!.length).toBe(Math.ceil(dkim.value.length / 255));
      for (const s of dkim.strings!) expect(Buffer.byteLength(s)).toBeLessThanOrEqual(255);
      expect(dkim.strings!.join('')).toBe(dkim.value);
      const p = /p=([A-Za-z0-9+/=]+)$/.exec(dkim.value)![1]!;
      const key = createPublicKey({ key: Buffer.from(p, 'base64'), format: 'der', type: 'spki' });
      expect(key.asymmetricKeyDetails?.modulusLength).toBe(bits);
    }
  });

  it('never cuts a UTF-8 character in two', () => {
    const parts = splitTxt('é'.repeat(200));
    for (const s of parts) expect(Buffer.byteLength(s)).toBeLessThanOrEqual(255);
    expect(parts.join('')).toBe('é'.repeat(200));
    expect(parts[0]).toBe('é'.repeat(127));
  });

  it('refuses a PEM that is not a public key', () => {
    expect(() => dkimPublicKeyBase64('-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n')).toThrow(/^DKIM public key: not a readable PEM public key/);
  });
});

describe('renderZoneFragment', () => {
  it('writes absolute names and a multi-string DKIM record', () => {
    const text = renderZoneFragment(dnsRecords(st14, { dkimPublicKeyPem: pem(2048) }));
    expect(text).toMatch(/^mail\.st14\.sne24\.ru\.\s+300 IN A\s+192\.168\.122\.190$/m);
    expect(text).toMatch(/^st14\.sne24\.ru\.\s+300 IN MX\s+10 mail\.st14\.sne24\.ru\.$/m);
    expect(text).toMatch(/^st14\.sne24\.ru\.\s+300 IN MX\s+20 mail\.st18\.sne24\.ru\.$/m);
    expect(text).toMatch(/^st14\.sne24\.ru\.\s+300 IN TXT\s+"v=spf1 mx -all"$/m);
    expect(text).toMatch(/^lab\._domainkey\.st14\.sne24\.ru\.\s+300 IN TXT\s+\( "v=DKIM1; k=rsa; p=[^"]{200,}"\n\s+"[^"]+" \)$/m);
  });

  it('writes names relative to an origin', () => {
    const text = renderZoneFragment(dnsRecords(st14), { origin: 'st14.sne24.ru', ttl: 60 });
    expect(text).toMatch(/^mail\s+60 IN A\s+192\.168\.122\.190$/m);
    expect(text).toMatch(/^@\s+60 IN MX\s+10 mail\.st14\.sne24\.ru\.$/m);
    expect(text).toMatch(/^_dmarc\s+60 IN TXT\s+"v=DMARC1; p=none; rua=mailto:postmaster@st14\.sne24\.ru; adkim=r; aspf=r"$/m);
  });
});
