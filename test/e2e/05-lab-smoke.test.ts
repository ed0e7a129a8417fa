/**
 * The CI smoke run (lab issue, item 5): the whole lab through the CLI, as a student would run it.
 * Install from the offline mirror (01-install left Exim built: this is the "nothing to do" path),
 * lab up, the backup-MX drill with 100 messages forced, the TLS drill, the wire drill (7c: tcpdump
 * and tshark, and its deliberately broken case), verify --lab, lab down,
 * and nothing left behind. Its evidence stays in the store for 06-report.
 * Beyond the write-up (issue 13): Exim built with DMARC (the default build; left so: 06-report and the
 * README's "what npm test leaves" count on it), every new check passing on both hosts, the spoof
 * drill with and without enforcement, the DANE drill, and `labctl dns --check` catching a stale TLSA.
 */
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labctl, offlineMirror } from '../helpers/cli.js';
import { isRoot, requireRoot } from '../helpers/root.js';

requireRoot();

describe.runIf(isRoot)('lab smoke run (e2e, real Exim, BIND, namespaces)', () => {
  beforeAll(async () => {
    await labctl(['lab', 'down']);
  }, 120_000);
  afterAll(async () => {
    await labctl(['lab', 'down']);
  }, 120_000);

  it('installs Exim from the offline mirror: 01-install left it built, so there is nothing to do', async () => {
    const r = await labctl(['install', '--mirror', `${await offlineMirror()}/exim4`, '--yes']);
    expect(r.exitCode, r.all).toBe(0);
    // The whole line: "Exim 4.98.2 is installed and running." alone is what a rebuild prints.
    expect(r.stdout).toMatch(/^Nothing to do: Exim 4\.98\.2 is installed and running\.$/m);
  }, 900_000);

  it('has Exim with DMARC (SUPPORT_DMARC, libopendmarc) for the spoof drill: --with dmarc names the default build', async () => {
    const r = await labctl(['install', '--mirror', `${await offlineMirror()}/exim4`, '--with', 'dmarc', '--yes'], { timeoutMs: 900_000 });
    expect(r.exitCode, r.all).toBe(0);
    const v = await execa('/usr/exim/bin/exim', ['-bV'], { reject: false });
    expect(v.stdout).toMatch(/^Support for:.* DMARC .*SPF/m);
  }, 900_000);

  it('brings the lab up', async () => {
    const r = await labctl(['lab', 'up']);
    console.log(r.all);
    expect(r.exitCode, r.all).toBe(0);
    const st = await labctl(['lab', 'status', '--json']);
    expect(st.exitCode, st.all).toBe(0);
    expect(st.stdout).toContain('st14.sne24.ru');
    expect(st.stdout).toContain('st18.sne24.ru');
  }, 180_000);

  it('runs the backup-MX drill with 100 messages, forced: nothing lost or duplicated', async () => {
    const r = await labctl(['lab', 'drill', 'backup-mx', '--messages', '100', '--force', '--json'], { timeoutMs: 300_000 });
    console.log(r.all);
    expect(r.exitCode, r.all).toBe(0);
    const figures = JSON.parse(r.stdout) as Record<string, number>;
    expect(Object.keys(figures).sort()).toEqual(['delivered', 'duplicates', 'heldOnBackup', 'heldSeconds', 'lost', 'recoverySeconds', 'sent']);
    expect(figures).toMatchObject({ sent: 100, heldOnBackup: 100, delivered: 100, lost: 0, duplicates: 0 });
  }, 300_000);

  it('the backup passes the drill\'s mail on unsigned (relay_smtp), and the drill prints its phases and the machine\'s CPU ceiling', async () => {
    const r = await labctl(['lab', 'drill', 'backup-mx', '--messages', '200', '--force', '--runners', '2'], { timeoutMs: 300_000 });
    console.log(r.all);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/^  from the main logs: backupSend 200 in .*endToEnd 200 in [\d.]+ s \([\d.]+\/s\)$/m);
    expect(r.stdout).toMatch(/^  machine: CPU [\d.]+ ms per message \(\d+% of \d+ cores busy\); at 100% of them the machine's ceiling is [\d.]+\/s$/m);
    // st18 is only the backup for this mail (the client sent it): relay_smtp, no DKIM signature as st18.
    const st18log = readFileSync('/var/lib/labctl/lab/hosts/st18/spool/log/mainlog', 'utf8').split('\n');
    const relayed = st18log.filter((l) => / => ahmed@st14\.sne24\.ru R=backup_mx /.test(l));
    expect(relayed.length).toBeGreaterThanOrEqual(300);
    expect(relayed.filter((l) => !l.includes(' T=relay_smtp '))).toEqual([]);
    const mbox = readFileSync('/var/lib/labctl/lab/hosts/st14/mail/ahmed', 'utf8');
    const drillMessages = mbox.split(/^From /m).filter((m) => m.includes('Subject: backup-mx drill'));
    expect(drillMessages.length).toBeGreaterThanOrEqual(300);
    expect(drillMessages.filter((m) => /^DKIM-Signature:[^\n]*(\n\s[^\n]*)*d=st18\.sne24\.ru/m.test(m))).toHaveLength(0);
  }, 300_000);

  it('runs the TLS drill', async () => {
    const r = await labctl(['lab', 'drill', 'tls', '--json'], { timeoutMs: 180_000 });
    console.log(r.all);
    expect(r.exitCode, r.all).toBe(0);
  }, 180_000);

  it('proves 7c on the wire: only TLS after STARTTLS, the control marker in the clear, SMTPS from the first byte', async () => {
    const r = await labctl(['lab', 'drill', 'wire', '--json'], { timeoutMs: 180_000 });
    console.log(r.all);
    expect(r.exitCode, r.all).toBe(0);
    const w = JSON.parse(r.stdout) as { tls: Record<string, unknown>; plain: Record<string, unknown>; smtps: Record<string, unknown>; pcap: string };
    expect(w.tls).toMatchObject({ markerFound: false, onlyTlsAfterStartTls: true, tlsVersion: expect.stringMatching(/^TLS 1\.[23]$/), cipher: expect.stringMatching(/^TLS_/) });
    expect(w.tls.plainCommands).toEqual(expect.arrayContaining(['STARTTLS', '220 TLS go ahead']));
    expect(w.plain).toMatchObject({ markerFound: true, packet: expect.any(Number), offset: expect.any(Number) });
    expect(w.smtps).toMatchObject({ markerFound: false, tlsFromFirstByte: true, plainCommands: [] });
    expect(existsSync(w.pcap)).toBe(true);
  }, 180_000);

  it('fails the wire proof when the "TLS" message is sent in plaintext (--demo-plaintext)', async () => {
    const r = await labctl(['lab', 'drill', 'wire', '--demo-plaintext', '--json'], { timeoutMs: 180_000 });
    expect(r.exitCode, r.all).toBe(1);
    const w = JSON.parse(r.stdout) as { tls: { markerFound: boolean; ok: boolean } };
    expect(w.tls).toMatchObject({ markerFound: true, ok: false });
  }, 180_000);

  it('verifies both lab hosts from inside the lab', async () => {
    const r = await labctl(['verify', '--lab', '--json'], { timeoutMs: 180_000 });
    console.log(r.stdout.slice(0, 4000));
    expect(r.exitCode, r.all).toBe(0);
  }, 180_000);

  it('passes every issue-13 check on both hosts: DMARC record and result, TLS-RPT, MTA-STS, PTR, DKIM key, DANE', async () => {
    const r = await labctl(['verify', '--lab', '--json', '--only', 'dmarc-record,dmarc-result,tls-rpt,mta-sts,ptr,dkim-key-match,dane-tlsa'], { timeoutMs: 180_000 });
    const reports = JSON.parse(r.stdout) as Record<string, { checks: { id: string; status: string; summary: string }[] }>;
    for (const host of ['st14', 'st18']) {
      const checks = reports[host]!.checks;
      expect(checks.map((c) => c.id).sort()).toEqual(['dane-tlsa', 'dkim-key-match', 'dmarc-record', 'dmarc-result', 'mta-sts', 'ptr', 'tls-rpt']);
      for (const c of checks) expect(`${host} ${c.id}: ${c.status}: ${c.summary}`).toMatch(new RegExp(`^${host} ${c.id}: pass: `));
      expect(checks.find((c) => c.id === 'dane-tlsa')!.summary).toMatch(/validated by the lab's resolver \(AD\); st1[48]'s delivery here used DANE \(DS, CV=dane\)/);
      expect(checks.find((c) => c.id === 'dmarc-result')!.summary).toMatch(/dmarc=pass; Exim's own result dmarc=pass/);
    }
  }, 180_000);

  it('spoof drill, enforced: st14 refuses the forged st18 message at DATA with the DMARC reason', async () => {
    const r = await labctl(['lab', 'drill', 'spoof', '--json'], { timeoutMs: 120_000 });
    expect(r.exitCode, r.all).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ sent: 1, refused: 1, delivered: 0, spf: 'fail', dkim: 'none', dmarc: 'fail' });
  }, 120_000);

  it('spoof drill, not enforced: delivered, marked spf=fail and dmarc=fail', async () => {
    const r = await labctl(['lab', 'drill', 'spoof', '--no-enforce', '--json'], { timeoutMs: 120_000 });
    expect(r.exitCode, r.all).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ sent: 1, refused: 0, delivered: 1, spf: 'fail', dkim: 'none', dmarc: 'fail' });
    const mbox = readFileSync('/var/lib/labctl/lab/hosts/st14/mail/ahmed', 'utf8');
    expect(mbox).toMatch(/Authentication-Results: mail\.st14\.sne24\.ru;\n\tspf=fail smtp\.mailfrom=st18\.sne24\.ru;\n\tdmarc=fail header\.from=st18\.sne24\.ru/);
  }, 120_000);

  it('labctl dns --check catches a stale TLSA (a certificate whose key DNS does not publish)', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'labctl-tlsa-'));
    try {
      const other = path.join(tmp, 'other.pem');
      const made = await execa('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(tmp, 'other.key'), '-out', other, '-days', '1', '-subj', '/CN=mail.st14.sne24.ru'], { reject: false });
      expect(made.exitCode, made.stderr).toBe(0);
      const check = (cert: string) =>
        execa('ip', ['netns', 'exec', 'labctl-client', 'node', 'bin/labctl', 'dns', '--check', '--json', '--domain', 'st14.sne24.ru', '--address', '10.203.14.14', '--backup-mx', 'mail.st18.sne24.ru', '--tls-cert', cert, '--dns-server', '10.203.14.53'], { reject: false });
      const tlsaRow = (out: string) => (JSON.parse(out) as { rows: { type: string; status: string }[] }).rows.find((x) => x.type === 'TLSA');
      const served = await check('/var/lib/labctl/lab/hosts/st14/tls/mail.st14.sne24.ru.pem');
      expect(tlsaRow(served.stdout)?.status, served.stdout).toBe('ok');
      const stale = await check(other);
      expect(stale.exitCode).toBe(1);
      expect(tlsaRow(stale.stdout)?.status, stale.stdout).toBe('different');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);

  it('DANE drill: a swapped certificate makes st18 defer; the republished TLSA lets it deliver with CV=dane', async () => {
    const r = await labctl(['lab', 'drill', 'dane', '--json'], { timeoutMs: 180_000 });
    console.log(r.all);
    expect(r.exitCode, r.all).toBe(0);
    const d = JSON.parse(r.stdout) as { staleTlsa: { stale: boolean }; deferred: { ok: boolean; reason: string }; republished: { ok: boolean }; delivered: { ok: boolean; dane: boolean }; ok: boolean };
    expect(d.staleTlsa.stale).toBe(true);
    expect(d.deferred).toMatchObject({ ok: true, reason: expect.stringMatching(/certificate verify failed/) });
    expect(d.republished.ok).toBe(true);
    expect(d.delivered).toMatchObject({ ok: true, dane: true });
  }, 180_000);

  it('takes the lab down and leaves nothing behind', async () => {
    const down = await labctl(['lab', 'down']);
    expect(down.exitCode, down.all).toBe(0);
    const left = await labctl(['lab', 'leftovers']);
    expect(left.exitCode, left.all).toBe(0);
    expect(left.stdout).toContain('nothing left behind');
  }, 120_000);
});
