import { describe, expect, it } from 'vitest';
import { findByMessageId, headerValue, splitMbox } from '../../../src/verify/mailbox.js';
import { parseDriverBlocks, parsePortList } from '../../../src/verify/facts.js';
import { parseOptions } from '../../../src/exim-options.js';
import { expectedRecordsResolver } from '../../../src/verify/resolver.js';

const MBOX = `From a@x Fri Nov 27 20:45:31 2026
Return-path: <a@x>
Message-ID: <one@x>
Subject: first

body one
From a@x Fri Nov 27 20:45:32 2026
Return-path: <a@x>
Message-Id:
 <two@x>
Subject: second

body two
`;

describe('mbox reading', () => {
  it('splits messages and finds one by Message-ID, folded or not', () => {
    expect(splitMbox(MBOX)).toHaveLength(2);
    expect(findByMessageId(MBOX, '<two@x>')?.headers).toContain('Subject: second');
    expect(findByMessageId(MBOX, 'one@x')?.body).toBe('body one\n');
    expect(findByMessageId(MBOX, '<three@x>')).toBeUndefined();
    expect(headerValue('Message-Id:\n <two@x>\nX: y', 'message-id')).toBe('<two@x>');
  });
});

describe('exim -bP parsing', () => {
  it('reads options, booleans and lists', () => {
    const o = parseOptions('accept_8bitmime\nno_allow_domain_literals\ndaemon_smtp_ports = 25 : 465 : 587\ntls_on_connect_ports = \ndomainlist relay_to_domains = st18.sne24.ru');
    expect(o.get('accept_8bitmime')).toBe('true');
    expect(o.get('allow_domain_literals')).toBe('false');
    expect(o.get('tls_on_connect_ports')).toBe('');
    expect(o.get('relay_to_domains')).toBe('st18.sne24.ru');
    expect(parsePortList(o.get('daemon_smtp_ports'))).toEqual([25, 465, 587]);
    expect(parsePortList('smtp : submission')).toEqual([25, 587]);
  });
  it('reads transports block by block', () => {
    const t = parseDriverBlocks('\nremote_smtp transport:\ndriver = smtp\ndkim_selector = lab\n\nlocal_delivery transport:\ndriver = appendfile\nfile = /var/mail/$local_part_data\n', 'transport');
    expect([...t.keys()]).toEqual(['remote_smtp', 'local_delivery']);
    expect(t.get('remote_smtp')?.get('dkim_selector')).toBe('lab');
    expect(t.get('local_delivery')?.get('file')).toBe('/var/mail/$local_part_data');
  });
});

describe('the expected-records resolver (offline DKIM/SPF evaluation)', () => {
  it('answers TXT as character-strings and says ENOTFOUND otherwise', async () => {
    const r = expectedRecordsResolver([{ name: 'st14.sne24.ru', type: 'TXT', value: 'v=spf1 mx -all', strings: ['v=spf1 mx -all'], purpose: '' }]);
    expect(await r('st14.sne24.ru.', 'TXT')).toEqual([['v=spf1 mx -all']]);
    await expect(r('x.st14.sne24.ru', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });
});
