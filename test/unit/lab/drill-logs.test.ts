import { describe, expect, it } from 'vitest';
import { attemptLine } from '../../../src/lab/logs.js';
import { daneLogFacts } from '../../../src/config/tlsa.js';
import { readAuthResults, readSpoofLog } from '../../../src/lab/drill-spoof.js';

// Lines recorded from the lab's main logs (Exim 4.98.2 --with dmarc, log_selector +dnssec).
const ST14_REFUSED = [
  '2026-11-28 10:13:31.892 SPF fail for st18.sne24.ru from 10.203.14.100',
  "2026-11-28 10:13:31.919 1xXFQx-0000000010d-3omb DMARC results: spf_domain=st18.sne24.ru dmarc_domain=st18.sne24.ru spf_align=no dkim_align=no enforcement='Reject'",
  '2026-11-28 10:13:31.921 1xXFQx-0000000010d-3omb H=(client.lab) [10.203.14.100] F=<mohamed@st18.sne24.ru> rejected after DATA: Rejected by the DMARC policy of st18.sne24.ru (reject): neither SPF nor DKIM vouches for this message (Reject)',
].join('\n');
const ST18_DANE = [
  '2026-11-28 10:31:02.100 1xXFl3-000000008OX-0lYu == ahmed@st14.sne24.ru R=backup_mx T=remote_smtp defer (-37) H=mail.st14.sne24.ru DS [10.203.14.14]: TLS session: (SSL_connect): error:0A000086:SSL routines::certificate verify failed',
  '2026-11-28 10:31:06.200 1xXFl3-000000008OX-0lYu => ahmed@st14.sne24.ru R=backup_mx T=remote_smtp H=mail.st14.sne24.ru DS [10.203.14.14] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=dane DN="/CN=mail.st14.sne24.ru" K',
].join('\n');

describe('spoof drill: reading what st14 said', () => {
  it('SPF, DMARC and the refusal from the main log', () => {
    expect(readSpoofLog(ST14_REFUSED, 'st18.sne24.ru', '10.203.14.100')).toEqual({
      spf: 'fail',
      dmarc: 'fail',
      refusal: 'Rejected by the DMARC policy of st18.sne24.ru (reject): neither SPF nor DKIM vouches for this message (Reject)',
    });
  });
  it('an aligned result is a pass; another client address is not this spoof', () => {
    const aligned = ST14_REFUSED.replace('dkim_align=no', 'dkim_align=yes');
    expect(readSpoofLog(aligned, 'st18.sne24.ru', '10.203.14.100').dmarc).toBe('pass');
    expect(readSpoofLog(ST14_REFUSED, 'st18.sne24.ru', '10.203.14.18').spf).toBeUndefined();
  });
  it("Exim's Authentication-Results header, folded as delivered", () => {
    expect(readAuthResults('mail.st14.sne24.ru;\n\tspf=fail smtp.mailfrom=st18.sne24.ru;\n\tdmarc=fail header.from=st18.sne24.ru')).toEqual({ spf: 'fail', dmarc: 'fail' });
    expect(readAuthResults(undefined)).toEqual({});
  });
});

describe('dane drill: the partner\'s delivery attempts', () => {
  it('the deferral and the delivery to the host address', () => {
    expect(attemptLine(ST18_DANE, '10.203.14.14', '==')).toMatch(/certificate verify failed$/);
    expect(attemptLine(ST18_DANE, '10.203.14.14', '=>')).toMatch(/ DS \[10\.203\.14\.14\] .* CV=dane /);
    expect(attemptLine(ST18_DANE, '10.203.14.18', '=>')).toBeUndefined();
    expect(daneLogFacts(attemptLine(ST18_DANE, '10.203.14.14', '=>')!)).toEqual({ secured: true, dane: true });
    // A later message on the same connection: '*' after the address, CV=no.
    expect(daneLogFacts(ST18_DANE.replace('] X=', ']* X=').replace('CV=dane', 'CV=no'))).toEqual({ secured: true, dane: false });
  });
});
