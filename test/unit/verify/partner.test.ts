import { describe, expect, it } from 'vitest';
import { partnerEtrn, partnerMx, partnerRcpt, partnerStartTls } from '../../../src/verify/checks/partner.js';
import { refusedForTls } from '../../../src/verify/checks/relay.js';
import { partnerHost } from '../../../src/verify/target.js';
import { validateModel } from '../../../src/config/validate.js';
import type { CheckContext } from '../../../src/verify/types.js';

describe('the partner-* checks', () => {
  it('skip, saying how to name a partner, when none is known', async () => {
    const ctx = { target: { domain: 'st14.sne24.ru' }, evidence: [] } as unknown as CheckContext;
    for (const check of [partnerMx, partnerRcpt, partnerStartTls, partnerEtrn]) {
      expect(await check.run(ctx), check.id).toEqual({ status: 'skip', summary: expect.stringMatching(/^no partner known: give --partner HOST/) });
    }
  });

  it('take the partner from --partner, else the model\'s partner; a backup MX alone is no partner', () => {
    const model = validateModel({ domain: 'st14.sne24.ru', backupMx: ['mail.st18.sne24.ru'] });
    expect(partnerHost({}, model)).toBeUndefined();
    expect(partnerHost({ partner: 'mx.other.ru' }, model)).toBe('mx.other.ru');
    expect(partnerHost({}, validateModel({ domain: 'st14.sne24.ru', partner: 'mail.st22.sne24.ru', backupMx: ['mail.st18.sne24.ru'] }))).toBe('mail.st22.sne24.ru');
    expect(partnerHost({}, validateModel({ domain: 'st14.sne24.ru', partner: 'mail.st22.sne24.ru' }))).toBe('mail.st22.sne24.ru');
    expect(partnerHost({}, validateModel({ domain: 'st14.sne24.ru' }))).toBeUndefined();
    expect(partnerHost({}, undefined)).toBeUndefined();
  });
});

describe('the relay checks under --tls required', () => {
  it('know a MAIL refused for want of TLS from one refused for another reason', () => {
    expect(refusedForTls({ code: 550, text: '550 TLS required: send STARTTLS first (or use port 465)' })).toBe(true);
    expect(refusedForTls({ code: 250, text: '250 OK' })).toBe(false);
    expect(refusedForTls({ code: 550, text: '550 relay not permitted' })).toBe(false);
  });
});

describe("the partner's certificate", () => {
  const trust = { ca: [], hostname: 'mail.st18.sne24.ru', caName: '/var/lib/labctl/ca/ca.pem and the system store' };
  const tls = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', subject: 'CN=mail.st18.sne24.ru', issuer: 'CN=labctl lab CA st18', validFrom: '', validTo: '', authorized: false, authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' };
  it("from the partner's own CA, naming the partner: a warning that says to give its CA (a real pair has two lab CAs)", async () => {
    const { judgePartnerCertificate } = await import('../../../src/verify/checks/partner.js');
    expect(judgePartnerCertificate(tls, trust)).toEqual({ status: 'warn', why: expect.stringMatching(/^names mail\.st18\.sne24\.ru, but is not signed by a CA in .*give the partner's CA with --ca FILE/) });
  });
  it('naming another host: a failure, whatever the chain', async () => {
    const { judgePartnerCertificate } = await import('../../../src/verify/checks/partner.js');
    expect(judgePartnerCertificate({ ...tls, nameMismatch: 'names wrong.example' }, trust).status).toBe('fail');
    expect(judgePartnerCertificate({ ...tls, authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT', nameMismatch: 'names wrong.example' }, trust).status).toBe('fail');
    expect(judgePartnerCertificate({ ...tls, authorized: true, authorizationError: undefined }, trust).status).toBe('pass');
  });
});

describe('a pair\'s MX records (partner-mx and labctl drill)', () => {
  it('names each preference that is wrong, and nothing when MX 10 is this host and MX 20 the partner', async () => {
    const { pairMxProblems } = await import('../../../src/verify/checks/partner.js');
    const mx = (...r: [number, string][]) => r.map(([priority, exchange]) => ({ priority, exchange }));
    expect(pairMxProblems(mx([10, 'mail.st14.sne24.ru.'], [20, 'MAIL.st18.sne24.ru']), 'mail.st14.sne24.ru', 'mail.st18.sne24.ru')).toEqual([]);
    expect(pairMxProblems(mx([10, 'mail.st14.sne24.ru']), 'mail.st14.sne24.ru', 'mail.st18.sne24.ru')).toEqual(['MX 20 should be mail.st18.sne24.ru (the partner), DNS gives none']);
    expect(pairMxProblems(mx([10, 'mail.st18.sne24.ru'], [20, 'mail.st14.sne24.ru']), 'mail.st14.sne24.ru', 'mail.st18.sne24.ru')).toHaveLength(2);
  });
});
