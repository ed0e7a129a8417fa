import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configureKeyParts, renderConfigure, tlsPlan, type ConfigureFiles } from '../../../src/config/render.js';
import { validateModel } from '../../../src/config/validate.js';
import type { ModelInput } from '../../../src/config/model.js';

const fixture = (name: string) => new URL(`../../../fixtures/config/${name}`, import.meta.url);

/** Golden files: set UPDATE_GOLDEN=1 to rewrite them after a deliberate template change. */
const CASES = ['local-only', 'backup-smtps', 'required-dkim'];

async function render(name: string) {
  const input = JSON.parse(readFileSync(fixture(`${name}.json`), 'utf8')) as { model: ModelInput; files: ConfigureFiles };
  return renderConfigure(validateModel(input.model), input.files);
}

describe('renderConfigure against golden files', () => {
  it.each(CASES)('%s', async (name) => {
    const text = await render(name);
    const golden = readFileSync(fixture(`${name}.configure`), 'utf8');
    // UPDATE_GOLDEN rewrites a golden file that differs, and fails: never a green run that
    // compared the rendering with itself. Review the change (git diff), then run again without it.
    if (process.env.UPDATE_GOLDEN && text !== golden) {
      writeFileSync(fixture(`${name}.configure`), text);
      expect.fail(`fixtures/config/${name}.configure rewritten (UPDATE_GOLDEN): review it with git diff, then run the tests again without UPDATE_GOLDEN`);
    }
    expect(text).toBe(golden);
  });
});

describe('what the configurations say', () => {
  it('local only: no TLS, no relay domains, local delivery as in the write-up', async () => {
    const text = await render('local-only');
    expect(text).toMatch(/^tls_advertise_hosts =$/m);
    expect(text).toMatch(/^daemon_smtp_ports = 25 : 587$/m);
    expect(text).not.toMatch(/tls_on_connect_ports/);
    expect(text).toMatch(/^domainlist relay_to_domains =\s*$/m);
    expect(text).toMatch(/^domainlist local_domains = @ : localhost : st14\.sne24\.ru$/m);
    expect(text).toMatch(/local_delivery:\n  driver = appendfile\n  file = \/var\/mail\/\$local_part_data\n  delivery_date_add\n  envelope_to_add\n  return_path_add\n  group = mail\n  mode = 0660/);
    expect(text).toMatch(/^keep_environment =$/m);
    expect(text).not.toMatch(/dkim_private_key/);
  });

  it('backup MX with STARTTLS and SMTPS: 465 listed and TLS on connect', async () => {
    const text = await render('backup-smtps');
    expect(text).toMatch(/^daemon_smtp_ports = 25 : 465 : 587$/m);
    expect(text).toMatch(/^tls_on_connect_ports = 465$/m);
    expect(text).toMatch(/^domainlist relay_to_domains = st18\.sne24\.ru$/m);
    expect(text).toMatch(/^backup_mx:\n  driver = dnslookup\n  domains = \+relay_to_domains/m);
    expect(text).toMatch(/^  tls_verify_certificates = \/var\/lib\/labctl\/ca\/ca\.pem$/m);
    expect(text).not.toMatch(/encrypted = \*/);
  });

  it('TLS required: plaintext refused at MAIL and RCPT, DKIM signing on', async () => {
    const text = await render('required-dkim');
    expect(text.match(/^\s+! encrypted = \*$/gm)).toHaveLength(2);
    expect(text).toMatch(/^  dkim_private_key = \/usr\/exim\/dkim\/st18\.sne24\.ru\.lab2024\.key$/m);
    expect(text).toMatch(/^  dkim_selector = lab2024$/m);
    expect(text).toMatch(/^\*\s+\*\s+F,1h,30s; F,4d,1h$/m);
    expect(text).toMatch(/^log_file_path = .*%slog$/m);
  });

  it('refuses a file path that would inject text', async () => {
    const m = validateModel({ domain: 'st14.sne24.ru' });
    await expect(renderConfigure(m, { tlsCertificate: '/x/cert.pem\ntls_privatekey = /etc/shadow', tlsPrivateKey: '/x/k' })).rejects.toThrow(/^tlsCertificate: must be on one line/);
    await expect(renderConfigure(m, { dkimPrivateKey: 'relative.key' })).rejects.toThrow(/^dkimPrivateKey: "relative.key" must be an absolute path/);
    await expect(renderConfigure(m, { tlsCertificate: '/x/cert.pem' })).rejects.toThrow(/give both or neither/);
  });

  it('TLS modes map to ports', () => {
    expect(tlsPlan('off')).toEqual({ on: false, smtps: false, required: false, requireDane: false, ports: [25, 587] });
    expect(tlsPlan('starttls').ports).toEqual([25, 587]);
    expect(tlsPlan('required')).toEqual({ on: true, smtps: true, required: true, requireDane: false, ports: [25, 465, 587] });
    expect(tlsPlan('dane')).toEqual({ on: true, smtps: true, required: false, requireDane: true, ports: [25, 465, 587] });
  });

  it('DANE: tried by default, required with --tls dane, left out only when the lab asks', async () => {
    const model = validateModel({ domain: 'st14.sne24.ru' });
    expect(await renderConfigure(model)).toMatch(/^\s+hosts_try_dane = \*$/m);
    const dane = await renderConfigure(validateModel({ domain: 'st14.sne24.ru', tls: 'dane' }));
    expect(dane).toMatch(/^\s+hosts_require_dane = \*$/m);
    expect(dane).not.toMatch(/^\s+hosts_try_dane/m);
    const off = await renderConfigure(model, {}, { dane: false });
    expect(off).toMatch(/^\s+hosts_try_dane =$/m);
    expect(off).not.toMatch(/^\s+hosts_(try_dane = \*|require_dane)/m);
  });

  it('DMARC: the reject ACL only while enforcement is on, the Authentication-Results header always', async () => {
    const on = await renderConfigure(validateModel({ domain: 'st14.sne24.ru' }));
    const off = await renderConfigure(validateModel({ domain: 'st14.sne24.ru', dmarcEnforce: false }));
    const denies = (t: string) => /deny\s+!hosts\s+= : \+relay_from_hosts\n\s+!authenticated = \*\n\s+dmarc_status\s+= reject\n/.test(t);
    expect(denies(on)).toBe(true);
    expect(denies(off)).toBe(false);
    // Recorded only: the check still runs (so its result is logged and in the header), nothing refused.
    expect(off).toMatch(/warn\s+!hosts\s+= : \+relay_from_hosts\n\s+!authenticated = \*\n\s+dmarc_status\s+= reject : quarantine\n\s+logwrite/);
    for (const t of [on, off]) expect(t).toContain('add_header = :at_start:${authresults {$primary_hostname}}');
  });

  it('backup MX: relayed mail leaves unsigned by relay_smtp, its own users\' mail signed by remote_smtp', async () => {
    const files = { dkimPrivateKey: '/usr/exim/dkim/st18.sne24.ru.lab.key' };
    const backup = await renderConfigure(validateModel({ domain: 'st18.sne24.ru', backupFor: [{ domain: 'st14.sne24.ru' }] }), files);
    const transport = (t: string, name: string) => t.split(/\n(?=\S)/).find((b) => b.startsWith(`${name}:`)) ?? '';
    expect(backup).toMatch(/^backup_mx:\n(  .*\n)*  transport = \$\{if or \{\{!def:sender_host_address\}\{eq\{\$acl_m_submitted\}\{yes\}\}\}\{remote_smtp\}\{relay_smtp\}\}$/m);
    expect(transport(backup, 'remote_smtp')).toContain('dkim_private_key = /usr/exim/dkim/st18.sne24.ru.lab.key');
    expect(transport(backup, 'relay_smtp')).toContain('driver = smtp');
    expect(transport(backup, 'relay_smtp')).not.toMatch(/dkim_/);
    // The same TLS and DANE on both.
    expect(transport(backup, 'relay_smtp')).toMatch(/hosts_try_dane = \*/);
    // Marked in the RCPT ACL for relay_from_hosts and authenticated senders only (local ones have no host).
    expect(backup.match(/set acl_m_submitted = yes/g)).toHaveLength(2);
    // No partner: no second transport.
    expect(await renderConfigure(validateModel({ domain: 'st14.sne24.ru' }), files)).not.toContain('relay_smtp');
  });

  it('mailbox locking: a lock file by default, a blocking fcntl lock when the lab asks', async () => {
    const model = validateModel({ domain: 'st14.sne24.ru' });
    const dflt = await renderConfigure(model);
    expect(dflt).not.toMatch(/use_lockfile|lock_fcntl_timeout/);
    const lab = await renderConfigure(model, {}, { mailboxLock: 'fcntl' });
    expect(lab).toMatch(/  mode = 0660\n(  #.*\n)*  use_lockfile = false\n  lock_fcntl_timeout = 30s\n/);
  });

  it('DMARC public suffix list: Debian\'s by default, the one given otherwise', async () => {
    const model = validateModel({ domain: 'st14.sne24.ru' });
    expect(await renderConfigure(model)).toContain('dmarc_tld_file = /usr/share/publicsuffix/public_suffix_list.dat');
    expect(await renderConfigure(model, { dmarcTldFile: '/var/lib/labctl/lab/hosts/st14/public_suffix_list.dat' })).toContain('dmarc_tld_file = /var/lib/labctl/lab/hosts/st14/public_suffix_list.dat');
    await expect(renderConfigure(model, { dmarcTldFile: 'relative.dat' })).rejects.toThrow(/dmarcTldFile/);
  });

  it('key parts keep the options a report needs and drop comments', async () => {
    const parts = configureKeyParts(await render('required-dkim'));
    expect(parts).toContain('primary_hostname = mail.st18.sne24.ru');
    expect(parts).toContain('tls_on_connect_ports = 465');
    expect(parts).toContain('[transport local_delivery] mode = 0660');
    expect(parts).toContain('[transport remote_smtp] dkim_selector = lab2024');
    expect(parts).toContain('[acl acl_check_mail] ! encrypted = *');
    expect(parts).not.toMatch(/^#/m);
  });
});
