import { readFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { compareServed, renderCheckTable } from '../../../src/config/dns-check.js';
import { dnsJson, mtaStsView, renderDnsText } from '../../../src/config/dns-text.js';
import { dnsRecords, mtaStsFor } from '../../../src/config/dns.js';
import { parseDig, spkiSha256, tlsaName, tlsaValue } from '../../../src/config/tlsa.js';
import { validateModel } from '../../../src/config/validate.js';

/**
 * `labctl dns` for st14 against golden files (fixtures/dns/, written once by hand from the
 * renderer and reviewed; the test only reads them), the TLSA digest against OpenSSL's, and the
 * --check comparison.
 */
const fixture = (rel: string) => readFileSync(new URL(`../../../fixtures/${rel}`, import.meta.url), 'utf8');

const st14 = validateModel({ domain: 'st14.sne24.ru', address: '192.168.122.190', backupMx: ['mail.st18.sne24.ru'] });
const render = (model = st14, cert = fixture('dns/mail.st14.sne24.ru.pem')) => {
  const records = dnsRecords(model, { dkimPublicKeyPem: fixture('config/dkim-2048.pub.pem'), tlsCertificatePem: cert });
  return { model, records, mtaSts: mtaStsView(model.domain, mtaStsFor(model)), notes: [] };
};

describe('labctl dns output (golden)', () => {
  it('matches fixtures/dns/st14.sne24.ru.zone and .json', () => {
    expect(renderDnsText(render())).toBe(fixture('dns/st14.sne24.ru.zone'));
    expect(JSON.stringify(dnsJson(render()), null, 2) + '\n').toBe(fixture('dns/st14.sne24.ru.json'));
  });

  it('names what each record is for', () => {
    for (const r of render().records) expect(r.purpose.length, `${r.name} ${r.type}`).toBeGreaterThan(10);
  });

  it('DMARC alignment follows the model; the default is relaxed and p=reject', () => {
    const strict = validateModel({ domain: 'st14.sne24.ru', dmarcAdkim: 's', dmarcAspf: 's', dmarcPolicy: 'quarantine' });
    const v = dnsRecords(strict).find((r) => r.name === '_dmarc.st14.sne24.ru')!.value;
    expect(v).toBe('v=DMARC1; p=quarantine; rua=mailto:postmaster@st14.sne24.ru; adkim=s; aspf=s');
    expect(dnsRecords(validateModel({ domain: 'st14.sne24.ru' })).find((r) => r.name === '_dmarc.st14.sne24.ru')!.value).toBe(
      'v=DMARC1; p=reject; rua=mailto:postmaster@st14.sne24.ru; adkim=r; aspf=r',
    );
    expect(() => validateModel({ domain: 'st14.sne24.ru', dmarcAdkim: 'x' as 's' })).toThrow(/dmarcAdkim: "x" is not one of s, r/);
  });

  it('the MTA-STS id changes when the MX hosts change, and only then', () => {
    const id = (m: typeof st14) => dnsRecords(m).find((r) => r.name === '_mta-sts.st14.sne24.ru')!.value;
    const alone = validateModel({ domain: 'st14.sne24.ru' });
    expect(id(alone)).toBe(id(validateModel({ domain: 'st14.sne24.ru', address: '10.0.0.1' })));
    expect(id(alone)).not.toBe(id(st14));
    expect(mtaStsFor(st14).text).toBe('version: STSv1\r\nmode: enforce\r\nmx: mail.st14.sne24.ru\r\nmx: mail.st18.sne24.ru\r\nmax_age: 604800\r\n');
  });
});

describe('TLSA 3 1 1', () => {
  it('is the SHA-256 of the DER SubjectPublicKeyInfo, as OpenSSL computes it, and follows a certificate change', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-tlsa-'));
    try {
      const digests: string[] = [];
      for (const [i, alg] of [['0', 'rsa:2048'], ['1', 'ec']].entries()) {
        const cert = path.join(dir, `cert${i}.pem`);
        const keyArgs = alg[1] === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', alg[1]!];
        await execa('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', path.join(dir, `key${i}.pem`), '-out', cert, '-days', '1', '-subj', '/CN=mail.st14.sne24.ru']);
        const { stdout } = await execa('sh', ['-c', 'openssl x509 -pubkey -noout -in "$1" | openssl pkey -pubin -outform DER | sha256sum', 'sh', cert]);
        const pem = await fs.readFile(cert, 'utf8');
        expect(spkiSha256(pem)).toBe(stdout.split(' ')[0]);
        digests.push(spkiSha256(pem));
        const tlsa = dnsRecords(st14, { tlsCertificatePem: pem }).find((r) => r.type === 'TLSA')!;
        expect(tlsa).toMatchObject({ name: '_25._tcp.mail.st14.sne24.ru', value: `3 1 1 ${stdout.split(' ')[0]}` });
      }
      expect(digests[0]).not.toBe(digests[1]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('refuses what is not a certificate', () => {
    expect(() => tlsaValue('-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n')).toThrow(/^TLS certificate: not a readable PEM certificate/);
    expect(tlsaName('mail.st14.sne24.ru')).toBe('_25._tcp.mail.st14.sne24.ru');
  });

  it("reads dig's answer: status, the ad flag and the record split into hex groups", () => {
    const out = [
      ';; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 4242',
      ';; flags: qr rd ra ad; QUERY: 1, ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 1',
      '',
      ';; ANSWER SECTION:',
      '_25._tcp.mail.st14.sne24.ru. 300 IN TLSA 3 1 1 BB9347CAFEF185CC0DC483ED089B777E720AE5916616293C428471C2 29621121',
      '_25._tcp.mail.st14.sne24.ru. 300 IN RRSIG TLSA 13 5 300 20261212000000 20261128000000 1 st14.sne24.ru. abc=',
      '',
    ].join('\n');
    expect(parseDig(out, 'TLSA')).toEqual({ status: 'NOERROR', flags: ['qr', 'rd', 'ra', 'ad'], records: ['3 1 1 bb9347cafef185cc0dc483ed089b777e720ae5916616293c428471c229621121'] });
    expect(parseDig(';; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 1\n;; flags: qr rd ra; QUERY: 1', 'TLSA')).toMatchObject({ records: [], code: 'ENOTFOUND' });
    expect(parseDig(';; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1\n;; flags: qr aa; QUERY: 1, ANSWER: 0', 'TLSA')).toMatchObject({ records: [], code: 'ENODATA' });
  });
});

describe('dns --check comparison', () => {
  it('says ok, missing or different per record, like a DNS table', async () => {
    const { records } = render();
    const served: Record<string, string[]> = {
      'st14.sne24.ru MX': ['10 mail.st14.sne24.ru', '30 mail.st18.sne24.ru'],
      'st14.sne24.ru TXT': ['v=spf1 mx -all', 'google-site-verification=x'],
      '_dmarc.st14.sne24.ru TXT': ['v=DMARC1; p=none'],
      '_25._tcp.mail.st14.sne24.ru TLSA': ['3 1 1 0000'],
      'mail.st14.sne24.ru A': ['192.168.122.190'],
    };
    const rows = await compareServed(records, async (name, type) => {
      const v = served[`${name} ${type}`];
      return v ? { values: v } : { values: [], code: 'ENOTFOUND' };
    });
    const status = Object.fromEntries(rows.map((r) => [`${r.name} ${r.type}${r.type === 'MX' ? ` ${r.expected.split(' ')[0]}` : ''}`, r.status]));
    expect(status).toEqual({
      'mail.st14.sne24.ru A': 'ok',
      'mta-sts.st14.sne24.ru A': 'missing',
      'st14.sne24.ru MX 10': 'ok',
      'st14.sne24.ru MX 20': 'different',
      'st14.sne24.ru TXT': 'ok',
      'lab._domainkey.st14.sne24.ru TXT': 'missing',
      '_dmarc.st14.sne24.ru TXT': 'different',
      '_smtp._tls.st14.sne24.ru TXT': 'missing',
      '_mta-sts.st14.sne24.ru TXT': 'missing',
      '_25._tcp.mail.st14.sne24.ru TLSA': 'different',
    });
    const table = renderCheckTable(rows);
    expect(table).toMatch(/^record\s+expected\s+served\s+status$/m);
    expect(table).toMatch(/^_25\._tcp\.mail\.st14\.sne24\.ru TLSA\s+3 1 1 bb9347\S*…\s+3 1 1 0000\s+different$/m);
    expect(table).toMatch(/^_smtp\._tls\.st14\.sne24\.ru TXT\s+v=TLSRPTv1.*\(none: ENOTFOUND\)\s+missing$/m);
  });
});
