import { describe, expect, it } from 'vitest';
import { resolvePartnerAddresses, type ResolveHost } from '../../../src/config/partners.js';
import { renderConfigure } from '../../../src/config/render.js';
import { validateModel } from '../../../src/config/validate.js';
import { dnsRecords } from '../../../src/config/dns.js';

/** A DNS of a few names, for the resolution labctl configure does. */
const zone: Record<string, string[]> = {
  'mail.st14.sne24.ru': ['192.168.122.190'],
  'mail.st18.sne24.ru': ['192.168.122.119', '2001:db8::18'],
  'mail.loop.example': ['127.0.1.1'],
};
const fakeDns: ResolveHost = async (name) => zone[name] ?? [];

const block = (text: string, name: string) => text.split(/\n(?=\S)/).find((b) => b.startsWith(`${name}:`)) ?? '';

describe('partner addresses resolved at configure time', () => {
  it('a --backup-for partner without an address gets its mail host\'s address; a given one is kept', async () => {
    const model = validateModel({ domain: 'st18.sne24.ru', backupFor: ['st14.sne24.ru', { domain: 'st22.sne24.ru', address: '10.0.0.22' }] });
    const { model: out, notes } = await resolvePartnerAddresses(model, fakeDns);
    expect(out.backupFor).toEqual([
      { domain: 'st14.sne24.ru', mailHost: 'mail.st14.sne24.ru', address: '192.168.122.190' },
      { domain: 'st22.sne24.ru', mailHost: 'mail.st22.sne24.ru', address: '10.0.0.22' },
    ]);
    expect(notes).toEqual([]);
    expect(model.backupFor[0]!.address, 'the input is not modified').toBeUndefined();
  });

  it('the backup MX hosts (--backup-mx and --partner) give every address they have; loopback never counts', async () => {
    const model = validateModel({ domain: 'st14.sne24.ru', backupMx: ['mail.st18.sne24.ru'], partner: 'mail.loop.example' });
    const { model: out, notes } = await resolvePartnerAddresses(model, fakeDns);
    expect(out.backupMxAddresses).toEqual(['192.168.122.119', '2001:db8::18']);
    expect(notes).toEqual([expect.stringMatching(/^mail\.loop\.example has no address here yet \(none recorded\): Exim looks the name up/)]);
  });

  it('a name that does not resolve is a note naming the flag to give, not an error', async () => {
    const model = validateModel({ domain: 'st18.sne24.ru', backupFor: ['st99.sne24.ru'] });
    const { model: out, notes } = await resolvePartnerAddresses(model, fakeDns);
    expect(out.backupFor[0]!.address).toBeUndefined();
    expect(notes).toEqual(['mail.st99.sne24.ru has no address here: ETRN #st99.sne24.ru is refused to everyone until you give it (--backup-for st99.sne24.ru,mail.st99.sne24.ru,ADDRESS)']);
  });

  it('a failing DNS is a note too', async () => {
    const model = validateModel({ domain: 'st14.sne24.ru', backupMx: ['mail.st18.sne24.ru'] });
    const { notes } = await resolvePartnerAddresses(model, async () => {
      throw new Error('no answer within 5 s');
    });
    expect(notes[0]).toBe('mail.st18.sne24.ru: no answer within 5 s');
  });
});

describe('--partner HOST', () => {
  it('is expected as MX 20 like a --backup-mx host, once', () => {
    const mx = (input: Parameters<typeof validateModel>[0]) => dnsRecords(validateModel(input)).filter((r) => r.type === 'MX').map((r) => `${r.priority} ${r.value}`);
    expect(mx({ domain: 'st14.sne24.ru', partner: 'mail.st18.sne24.ru' })).toEqual(['10 mail.st14.sne24.ru', '20 mail.st18.sne24.ru']);
    expect(mx({ domain: 'st14.sne24.ru', partner: 'mail.st18.sne24.ru', backupMx: ['mail.st18.sne24.ru'] })).toEqual(['10 mail.st14.sne24.ru', '20 mail.st18.sne24.ru']);
    expect(mx({ domain: 'st14.sne24.ru' })).toEqual(['10 mail.st14.sne24.ru']);
  });
});

describe('the ETRN rule of a backup host', () => {
  const backup = validateModel({
    domain: 'st18.sne24.ru',
    backupFor: [{ domain: 'st14.sne24.ru', address: '192.168.122.190' }, { domain: 'st22.sne24.ru', address: '2001:db8::22' }, { domain: 'st30.sne24.ru' }],
  });

  it('accepts ETRN #domain only from that domain\'s primary, any case, and denies everything else', async () => {
    const text = await renderConfigure(backup, { eximBinary: '/opt/exim/bin/exim-4.98.2' });
    expect(text).toMatch(/^acl_smtp_etrn = acl_check_etrn$/m);
    expect(text).toMatch(/^smtp_etrn_serialize = true$/m);
    const acl = block(text, 'acl_check_etrn');
    const accepts = acl.split('\n\n').filter((b) => b.trim().startsWith('accept'));
    expect(accepts.map((b) => b.trim().split('\n').map((l) => l.trim()))).toEqual([
      ['accept  hosts     = <; 192.168.122.190', 'condition = ${if eqi{$smtp_command_argument}{#st14.sne24.ru}}', 'set acl_m_etrn_domain = st14.sne24.ru'],
      ['accept  hosts     = <; 2001:db8::22', 'condition = ${if eqi{$smtp_command_argument}{#st22.sne24.ru}}', 'set acl_m_etrn_domain = st22.sne24.ru'],
    ]);
    // A rate limit first, a deny last: a partner without an address (st30) is refused to everyone.
    expect(acl.trim().split('\n\n')[0]).toMatch(/deny .*\n\s+ratelimit = \d+ \/ 1m \/ per_cmd \/ \$sender_host_address/);
    expect(acl.trim().split('\n\n').pop()).toMatch(/^\s*deny\s+message/);
    expect(acl).not.toContain('st30');
  });

  it('runs the binary labctl install recorded, for the ACL\'s literal domain, never the client\'s text', async () => {
    const text = await renderConfigure(backup, { eximBinary: '/opt/exim/bin/exim-4.98.2' });
    const command = /^smtp_etrn_command = (.*)$/m.exec(text)?.[1];
    expect(command).toBe('/opt/exim/bin/exim-4.98.2 -R ${if!eq{$acl_m_etrn_domain}{}{@$acl_m_etrn_domain}fail}');
    expect(command).not.toContain('$domain');
    expect(command).not.toContain('smtp_command');
  });

  it('is absent on a host that backs nobody up (Exim then refuses every ETRN)', async () => {
    const text = await renderConfigure(validateModel({ domain: 'st14.sne24.ru' }));
    expect(text).not.toMatch(/etrn/i);
  });
});

describe('mail passed on by this domain\'s own backup MX', () => {
  const primary = (enforce: boolean) => validateModel({ domain: 'st14.sne24.ru', backupMx: ['mail.st18.sne24.ru'], backupMxAddresses: ['192.168.122.119', '2001:db8::18'], dmarcEnforce: enforce });

  it('is not refused for DMARC, and its result is still logged and recorded in the header', async () => {
    const text = await renderConfigure(primary(true));
    expect(text).toMatch(/^hostlist   backup_mx_hosts = mail\.st18\.sne24\.ru$/m);
    const data = text.slice(text.indexOf('\nacl_check_data:'), text.indexOf('\nbegin routers'));
    const refusal = data.split('\n\n').find((b) => /dmarc_status\s+= reject\n/.test(b) && /^\s*deny/m.test(b)) ?? '';
    // The backup's name is looked up only after DMARC said reject.
    expect(refusal).toMatch(/dmarc_status\s+= reject\n\s+!hosts\s+= \+backup_mx_hosts\n/);
    expect(data).toMatch(/warn\s+dmarc_status\s+= reject : quarantine\n\s+hosts\s+= \+backup_mx_hosts\n\s+logwrite/);
    expect(data).toMatch(/warn\s+!hosts\s+= : \+relay_from_hosts\n\s+add_header = :at_start:\$\{authresults/);
  });

  it('names the hosts, not the addresses DNS gave at configure time: the file does not change with DNS', async () => {
    const without = await renderConfigure(validateModel({ domain: 'st14.sne24.ru', backupMx: ['mail.st18.sne24.ru'], dmarcEnforce: true }));
    expect(without).toBe(await renderConfigure(primary(true)));
    expect(await renderConfigure(validateModel({ domain: 'st14.sne24.ru', partner: 'mail.st22.sne24.ru' }))).toMatch(/^hostlist   backup_mx_hosts = mail\.st22\.sne24\.ru$/m);
    expect(await renderConfigure(validateModel({ domain: 'st14.sne24.ru' }))).not.toContain('backup_mx_hosts');
  });
});
