import { describe, expect, it } from 'vitest';
import { mtaStsPolicyFor, parseDmarc, parseMtaStsPolicy, parseMtaStsTxt, parseTlsRpt, stsMxMatches, uncoveredMx } from '../../../src/config/policies.js';

describe('parseDmarc', () => {
  it('reads what labctl dns publishes, with defaults for absent tags', () => {
    expect(parseDmarc('v=DMARC1; p=reject; rua=mailto:postmaster@st14.sne24.ru; adkim=s; aspf=r')).toEqual({
      ok: true,
      value: { policy: 'reject', adkim: 's', aspf: 'r', rua: ['mailto:postmaster@st14.sne24.ru'], ruf: [], pct: 100 },
    });
    expect(parseDmarc('v=DMARC1;p=none;')).toMatchObject({ ok: true, value: { policy: 'none', adkim: 'r', aspf: 'r' } });
    expect(parseDmarc('v=DMARC1; p=quarantine; sp=reject; pct=50; future_tag=1')).toMatchObject({ ok: true, value: { policy: 'quarantine', subdomainPolicy: 'reject', pct: 50 } });
  });

  it.each([
    ['', /not a tag=value pair|does not start with v=DMARC1/],
    ['p=reject; v=DMARC1', /does not start with v=DMARC1/],
    ['v=DMARC2; p=reject', /does not start with v=DMARC1/],
    ['v=DMARC1; rua=mailto:a@b', /no p= tag/],
    ['v=DMARC1; p=block', /p=block: not one of none, quarantine, reject/],
    ['v=DMARC1; p=reject; adkim=x', /adkim=x: not s \(strict\) or r \(relaxed\)/],
    ['v=DMARC1; p=reject; p=none', /tag p appears twice/],
    ['v=DMARC1; p=reject; pct=101', /pct=101/],
    ['v=DMARC1; p=reject; rua=postmaster@st14.sne24.ru', /rua: "postmaster@st14.sne24.ru" is not a mailto: or https: URI/],
    ['v=DMARC1; p=reject;; aspf=r', /"" is not a tag=value pair/],
    ['v=DMARC1 p=reject', /does not start with v=DMARC1/],
  ])('refuses %j', (text, why) => {
    const r = parseDmarc(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(why);
  });
});

describe('parseTlsRpt', () => {
  it('reads mailto and https report addresses', () => {
    expect(parseTlsRpt('v=TLSRPTv1; rua=mailto:postmaster@st14.sne24.ru,https://reports.example/tlsrpt')).toEqual({
      ok: true,
      value: { rua: ['mailto:postmaster@st14.sne24.ru', 'https://reports.example/tlsrpt'] },
    });
  });
  it.each([
    ['v=TLSRPTv1', /no rua=/],
    ['v=TLSRPTv2; rua=mailto:a@b', /does not start with v=TLSRPTv1/],
    ['v=TLSRPTv1; rua=http://insecure.example/', /not a mailto: or https: URI/],
  ])('refuses %j', (text, why) => {
    const r = parseTlsRpt(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(why);
  });
});

describe('MTA-STS', () => {
  it('parses its own policy back, CRLF or LF', () => {
    const { text, policy } = mtaStsPolicyFor(['mail.st14.sne24.ru', 'mail.st18.sne24.ru']);
    expect(parseMtaStsPolicy(text)).toEqual({ ok: true, value: policy });
    expect(parseMtaStsPolicy(text.replace(/\r\n/g, '\n'))).toEqual({ ok: true, value: policy });
    expect(parseMtaStsTxt('v=STSv1; id=20261128T0800')).toEqual({ ok: true, value: { id: '20261128T0800' } });
  });

  it.each([
    ['mode: enforce\nmx: a.example\nmax_age: 60\n', /no version line/],
    ['version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 60\n', /version: STSv2 is not STSv1/],
    ['version: STSv1\nmode: strict\nmx: a.example\nmax_age: 60\n', /mode: strict is not enforce, testing or none/],
    ['version: STSv1\nmode: enforce\nmax_age: 60\n', /mode enforce without any mx line/],
    ['version: STSv1\nmode: enforce\nmx: a.example\n', /no max_age line/],
    ['version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n', /max_age: 31557601 is not a whole number/],
    ['version: STSv1\nmode: enforce\nmx: a.example\nmax_age: soon\n', /max_age: soon/],
    ['version: STSv1\nmode: enforce\nmode: testing\nmx: a.example\nmax_age: 60\n', /mode appears 2 times/],
    ['version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 60\n', /mx: a\.\.example is not a host name/],
    ['<html>404 Not Found</html>', /is not "key: value"/],
  ])('refuses the policy %j', (text, why) => {
    const r = parseMtaStsPolicy(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(why);
  });

  it.each([
    ['v=STSv1', /no id= tag/],
    ['v=STSv1; id=', /id=: must be 1 to 32 letters and digits/],
    ['v=STSv1; id=has-dash', /must be 1 to 32 letters and digits/],
    ['v=STSv1; id=' + 'a'.repeat(33), /must be 1 to 32/],
    ['v=spf1 mx -all', /"v=spf1 mx -all" is not a tag=value pair|does not start with v=STSv1/],
  ])('refuses the TXT record %j', (text, why) => {
    const r = parseMtaStsTxt(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(why);
  });

  it('matches mx patterns as RFC 8461 says: "*." is one label', () => {
    expect(stsMxMatches('mail.st14.sne24.ru', 'MAIL.st14.sne24.ru.')).toBe(true);
    expect(stsMxMatches('*.sne24.ru', 'st14.sne24.ru')).toBe(true);
    expect(stsMxMatches('*.sne24.ru', 'mail.st14.sne24.ru')).toBe(false);
    expect(stsMxMatches('*.sne24.ru', 'sne24.ru')).toBe(false);
    expect(uncoveredMx({ mx: ['mail.st14.sne24.ru'] }, ['mail.st14.sne24.ru', 'mail.st18.sne24.ru'])).toEqual(['mail.st18.sne24.ru']);
  });
});
