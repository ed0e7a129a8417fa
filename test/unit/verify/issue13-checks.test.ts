import { describe, expect, it } from 'vitest';
import { daneLabSide } from '../../../src/verify/checks/dane.js';
import { reverseName } from '../../../src/verify/checks/ptr.js';
import type { CheckContext } from '../../../src/verify/types.js';

describe('ptr: reverse names', () => {
  it('IPv4 and IPv6 (nibbles, :: expanded)', () => {
    expect(reverseName('10.203.14.14')).toBe('14.14.203.10.in-addr.arpa');
    expect(reverseName('2001:db8::18')).toBe(`8.1.0.0.${'0.'.repeat(20)}8.b.d.0.1.0.0.2.ip6.arpa`);
  });
});

describe('dane-tlsa: the lab-side hook', () => {
  it('off the lab (no validating resolver, no partner) it warns and never passes', async () => {
    const r = await daneLabSide({ target: {} } as CheckContext, '_25._tcp.mail.st14.sne24.ru', { command: 'dig', output: '', flags: ['qr', 'ad'], records: [] });
    expect(r).toMatchObject({ checked: false, status: 'warn' });
    expect(r.summary).toMatch(/not proved \(AD bit set by this resolver\).*verify --lab proves both/);
  });
});
