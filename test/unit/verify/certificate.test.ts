import { describe, expect, it } from 'vitest';
import { judgeCertificate, type Trust } from '../../../src/verify/checks/tls.js';
import type { TlsInfo } from '../../../src/verify/smtp.js';

const trust: Trust = { ca: [], hostname: 'mail.st14.sne24.ru', caName: '/var/lib/labctl/ca/ca.pem and the system store' };
const info = (authorized: boolean, authorizationError?: string): TlsInfo => ({
  protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', subject: 'CN=x', issuer: 'CN=y', validFrom: 'Jan 1 2026', validTo: 'Jan 1 2027', authorized, authorizationError,
});

describe('judging the certificate a TLS session met', () => {
  it('passes a chain and name that verified, saying against what', () => {
    expect(judgeCertificate(info(true), trust)).toEqual({ status: 'pass', why: 'verified against /var/lib/labctl/ca/ca.pem and the system store for mail.st14.sne24.ru' });
  });
  it.each([
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'fail', /does not name mail\.st14\.sne24\.ru/],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'fail', /not signed by a CA in/],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'fail', /not signed by a CA in/],
    ['CERT_HAS_EXPIRED', 'fail', /has expired \(Jan 1 2027\)/],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'warn', /self-signed certificate \(Exim makes one at run time/],
    ['SOMETHING_ELSE', 'fail', /did not verify: SOMETHING_ELSE/],
  ])('%s: %s', (code, status, why) => {
    const v = judgeCertificate(info(false, code), trust);
    expect(v.status).toBe(status);
    expect(v.why).toMatch(why);
  });
});

describe('a self-signed certificate', () => {
  it('fails when it names another host, and only warns when it names this one', () => {
    const wrong = judgeCertificate({ ...info(false, 'DEPTH_ZERO_SELF_SIGNED_CERT'), nameMismatch: "Host: mail.st14.sne24.ru. is not in the cert's altnames: DNS:wrong.example" }, trust);
    expect(wrong).toEqual({ status: 'fail', why: "self-signed certificate that does not name mail.st14.sne24.ru (Host: mail.st14.sne24.ru. is not in the cert's altnames: DNS:wrong.example)" });
    expect(judgeCertificate(info(false, 'DEPTH_ZERO_SELF_SIGNED_CERT'), trust).status).toBe('warn');
  });
});

describe('tls-policy', () => {
  it('passes only forward-secret TLS 1.2 suites with TLS 1.0 and 1.1 refused', async () => {
    const { judge, forwardSecret, TLS12_SUITES } = await import('../../../src/verify/checks/tls-policy.js');
    expect(TLS12_SUITES).toContain('AES128-SHA');
    expect(TLS12_SUITES.some((s) => s.startsWith('TLS_'))).toBe(false);
    expect(forwardSecret('ECDHE-RSA-AES256-GCM-SHA384')).toBe(true);
    expect(forwardSecret('DHE-RSA-AES128-GCM-SHA256')).toBe(true);
    expect(forwardSecret('AES256-GCM-SHA384')).toBe(false);
    expect(judge('SMTPS port 465', [], ['ECDHE-RSA-AES256-GCM-SHA384'], true).status).toBe('pass');
    const weak = judge('SMTPS port 465', ['TLSv1.1'], ['ECDHE-RSA-AES256-GCM-SHA384', 'AES128-SHA'], true);
    expect(weak.status).toBe('fail');
    expect(weak.summary).toMatch(/accepts TLSv1\.1; TLS 1\.2 suites without forward secrecy: AES128-SHA/);
    expect(judge('x', [], [], false).summary).toMatch(/no TLS 1\.2 or 1\.3 suite accepted/);
  });
});
