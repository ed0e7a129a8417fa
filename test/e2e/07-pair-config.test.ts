/**
 * One side of a real pair, configured by labctl, proven in the namespace lab (real BIND, real
 * Exim daemons): st18 is the backup MX of st14 and st14 of st18.
 * - ETRN (write-up 5c without the partner's hands): st14, and only st14, gets its held mail from
 *   st18 with `ETRN #st14.sne24.ru`; the client's address, or another domain, gets 458.
 * - The backup path keeps its mail: with DMARC enforced on st14, a p=reject sender without DKIM
 *   whose mail reaches st14 through st18 is delivered (recorded spf=fail, dmarc=fail), where the
 *   same message straight from the client is refused.
 * - verify from one side of the pair: the partner-* checks (MX 10/20, the partner's RCPT,
 *   STARTTLS and ETRN) pass for the right partner and fail for a wrong one.
 * - --tls required on the backup: 5a-backup-relay passes and relay-refused really tests the relay
 *   rule (over STARTTLS from the client): with relaying opened on purpose it fails.
 * Needs Exim built --with dmarc (05-lab-smoke leaves it so); brings the lab up and takes it down.
 */
import { execa } from 'execa';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serial, reloadDnsServer, writeZone } from '../../src/lab/dns.js';
import { startDaemon, stopDaemon, queueCount } from '../../src/lab/daemon.js';
import { reloadHostDaemon, switchHost } from '../../src/lab/drill-tls.js';
import { labModel } from '../../src/lab/host.js';
import { hostKeys } from '../../src/lab/keys.js';
import { loadState } from '../../src/lab/state.js';
import { domainZone } from '../../src/lab/up.js';
import type { LabState } from '../../src/lab/state.js';
import type { EtrnResult } from '../../src/verify/etrn.js';
import { labctl, repoRoot } from '../helpers/cli.js';
import { isRoot, requireRoot } from '../helpers/root.js';

requireRoot();

const labDir = '/var/lib/labctl/lab';
const mailbox = (host: string, user: string) => path.join(labDir, 'hosts', host, 'mail', user);
const mainlog = (host: string) => fs.readFile(path.join(labDir, 'hosts', host, 'spool/log/mainlog'), 'utf8').catch(() => '');
const inNs = (ns: string, args: string[]) => execa('ip', ['netns', 'exec', ns, ...args], { reject: false, timeout: 60_000 });

/** labctl's ETRN client (dist/verify/etrn.js, what the backup-mx drill uses), run from a lab host's namespace. */
async function etrnFrom(ns: string, host: string, domain: string): Promise<EtrnResult> {
  const script = `import { askEtrn } from ${JSON.stringify(path.join(repoRoot, 'dist/verify/etrn.js'))};
process.stdout.write(JSON.stringify(await askEtrn({ host: ${JSON.stringify(host)}, domain: ${JSON.stringify(domain)}, timeoutMs: 15000 })));`;
  const r = await inNs(ns, ['node', '--input-type=module', '-e', script]);
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as EtrnResult;
}

type Report = { checks: { id: string; status: string; summary: string }[] };

/** labctl verify --lab, its JSON keyed by host name. */
async function verifyLab(args: string[]): Promise<Record<string, Record<string, { status: string; summary: string }>>> {
  const r = await labctl(['verify', '--lab', '--json', '--no-store', ...args], { timeoutMs: 180_000 });
  const reports = JSON.parse(r.stdout) as Record<string, Report>;
  return Object.fromEntries(Object.entries(reports).map(([host, rep]) => [host, Object.fromEntries(rep.checks.map((c) => [c.id, { status: c.status, summary: c.summary }]))]));
}

describe.runIf(isRoot)('one side of a pair: ETRN and the backup path (lab, real Exim and BIND)', () => {
  let state: LabState;
  const st = (name: string) => state.spec.hosts.find((h) => h.name === name)!;

  beforeAll(async () => {
    await labctl(['lab', 'down']);
    const up = await labctl(['lab', 'up'], { timeoutMs: 150_000 });
    expect(up.exitCode, up.all).toBe(0);
    state = (await loadState())!;
  }, 200_000);

  afterAll(async () => {
    await labctl(['lab', 'down']);
  }, 60_000);

  it('st18\'s configuration lets st14\'s address, and only it, ETRN #st14.sne24.ru', async () => {
    const conf = await fs.readFile(path.join(labDir, 'hosts/st18/configure'), 'utf8');
    expect(conf).toMatch(/^smtp_etrn_command = \/usr\/exim\/bin\/exim -R /m);
    expect(conf).toMatch(/accept\s+hosts\s+= <; 10\.203\.14\.14\n\s+condition = \$\{if eqi\{\$smtp_command_argument\}\{#st14\.sne24\.ru\}\}/);
  });

  it('ETRN from st14 delivers the mail st18 held while st14 was down; the client and other domains get 458', async () => {
    const st14 = st('st14');
    const st18 = st('st18');
    const marker = `etrn-${Date.now()}`;
    await stopDaemon(st14);
    try {
      const sent = await inNs('labctl-client', [
        'swaks', '--server', st18.address, '--ehlo', 'client.lab', '--from', 'mohamed@st18.sne24.ru',
        '--to', 'ahmed@st14.sne24.ru', '--header', `Message-ID: <${marker}@client.lab>`, '--header', `Subject: ${marker}`,
      ]);
      expect(sent.exitCode, sent.stdout).toBe(0);
      // st18 tries st14 at once, finds it down and keeps the message (== in its log).
      await expect.poll(async () => (await mainlog('st18')).split('\n').some((l) => / == ahmed@st14\.sne24\.ru /.test(l)), { timeout: 20_000 }).toBe(true);
      expect(await queueCount(st18)).toBeGreaterThanOrEqual(1);
    } finally {
      await startDaemon(st14, state.spec.queueInterval);
    }

    // Refused: the client's address, st14 for a domain that is not its own, and for st18's own.
    const fromClient = await etrnFrom('labctl-client', st18.address, 'st14.sne24.ru');
    console.log(fromClient.transcript);
    expect(fromClient.reply?.code, fromClient.transcript).toBe(458);
    expect(fromClient.accepted).toBe(false);
    for (const domain of ['st18.sne24.ru', 'example.org']) {
      const other = await etrnFrom('labctl-st14', st18.address, domain);
      expect(other.reply?.code, `ETRN #${domain} from st14: ${other.transcript}`).toBe(458);
    }
    expect((await fs.readFile(mailbox('st14', 'ahmed'), 'utf8').catch(() => '')).includes(marker), 'a refused ETRN delivered nothing').toBe(false);

    // Accepted: st14 asks for its own domain (any case), and st18 runs -R @st14.sne24.ru at once.
    const ok = await etrnFrom('labctl-st14', st18.address, 'ST14.sne24.ru');
    console.log(ok.transcript);
    expect(ok.reply?.code, ok.transcript).toBe(250);
    expect(ok.accepted).toBe(true);
    expect(ok.transcript).toMatch(/^ ~> ETRN #ST14\.sne24\.ru$/m);
    await expect.poll(async () => (await fs.readFile(mailbox('st14', 'ahmed'), 'utf8').catch(() => '')).includes(marker), { timeout: 20_000 }).toBe(true);
    // The delivery was the ETRN's queue run (its own Start/End lines in st18's log), not the daemon's.
    const log = (await mainlog('st18')).split('\n');
    const start = log.findIndex((l) => /Start queue run: pid=\d+ -R @st14\.sne24\.ru/.test(l));
    expect(start, log.slice(-20).join('\n')).toBeGreaterThanOrEqual(0);
    const pid = /pid=(\d+)/.exec(log[start]!)![1];
    const end = log.findIndex((l, i) => i > start && l.includes(`End queue run: pid=${pid} -R @st14.sne24.ru`));
    const delivered = log.slice(start, end === -1 ? undefined : end).find((l) => / => ahmed@st14\.sne24\.ru /.test(l));
    console.log(log.slice(start, end + 1).join('\n'));
    expect(delivered, log.slice(start).join('\n')).toBeDefined();
  }, 120_000);

  it('DMARC enforced on st14: a p=reject sender without DKIM is refused straight from the client, but delivered through the backup st18', async () => {
    const st14 = st('st14');
    const st18 = st('st18');
    // The sender: st18.sne24.ru publishes p=reject (the lab's default) and, for this test, an SPF
    // record that lists only the client (its users send from there): mail passed on by st18 from
    // its own address fails SPF at st14, and st18 does not sign what it only relays.
    const spf = 'v=spf1 ip4:10.203.14.100 -all';
    const model = { ...labModel(state.spec, st18), spfPolicy: spf };
    const zone = await domainZone({ spec: st18, model, keys: await hostKeys(state.spec, st18, model), users: [] });
    await writeZone(state.spec, { ...zone, serial: serial() + 1 });
    await reloadDnsServer();
    await expect.poll(async () => (await inNs('labctl-client', ['dig', '@10.203.14.53', '+short', 'TXT', 'st18.sne24.ru'])).stdout, { timeout: 30_000 }).toContain(spf);
    await switchHost(state, st14, { dmarcEnforce: true });
    try {
      const send = (server: string, marker: string) =>
        inNs('labctl-client', [
          'swaks', '--server', server, '--ehlo', 'client.lab', '--from', 'mohamed@st18.sne24.ru', '--to', 'ahmed@st14.sne24.ru',
          '--header', 'From: mohamed@st18.sne24.ru', '--header', `Message-ID: <${marker}@client.lab>`, '--header', `Subject: ${marker}`,
        ]);
      // Control: straight to st14, DMARC refuses it (enforcement is on, the policy is reject).
      const direct = await send(st14.address, `dmarc-direct-${Date.now()}`);
      expect(direct.stdout).toMatch(/<\*\* +5\d\d[ -].*DMARC/);

      // Through the backup: st18 accepts it for st14 and passes it on; st14 delivers it.
      const marker = `dmarc-backup-${Date.now()}`;
      const viaBackup = await send(st18.address, marker);
      expect(viaBackup.exitCode, viaBackup.stdout).toBe(0);
      let message = '';
      await expect
        .poll(async () => (message = (await fs.readFile(mailbox('st14', 'ahmed'), 'utf8').catch(() => '')).split(/^From /m).find((m) => m.includes(marker)) ?? ''), { timeout: 30_000 })
        .not.toBe('');
      // Recorded all the same: SPF failed (st18's address), no DKIM, DMARC failed.
      const results = /^Authentication-Results: .*(?:\n\s.*)*/m.exec(message)?.[0] ?? '';
      console.log(results);
      expect(results).toMatch(/spf=fail/);
      expect(results).toMatch(/dmarc=fail/);
      const st14log = await mainlog('st14');
      expect(st14log).toMatch(/DMARC: the policy of st18\.sne24\.ru \(reject\) not enforced: passed on by backup MX 10\.203\.14\.18/);
      // And nothing bounced back to the sender on st18.
      const st18log = await mainlog('st18');
      expect(st18log.split('\n').filter((l) => / \*\* ahmed@st14\.sne24\.ru/.test(l))).toEqual([]);
    } finally {
      await switchHost(state, st14, {});
    }
  }, 120_000);

  it('verify from one side: the partner-* checks pass for st14, whose partner st18 is, and fail for st18, which is not its own partner', async () => {
    const ids = 'partner-mx,partner-rcpt,partner-starttls,partner-etrn';
    const none = await verifyLab(['--only', ids]);
    for (const id of ids.split(',')) expect(none.st14![id], `without --partner, ${id}`).toMatchObject({ status: 'skip', summary: expect.stringMatching(/^no partner known/) });
    const pair = await verifyLab(['--only', `${ids},5a-backup-relay`, '--partner', 'mail.st18.sne24.ru']);
    console.log(JSON.stringify(pair, null, 2));
    for (const id of [...ids.split(','), '5a-backup-relay']) expect(pair.st14![id], `st14 ${id}`).toMatchObject({ status: 'pass' });
    expect(pair.st18!['5a-backup-relay'], 'st18 relays for st14 (the partner side)').toMatchObject({ status: 'pass' });
    expect(pair.st14!['partner-mx']!.summary).toBe('MX 10 mail.st14.sne24.ru, MX 20 mail.st18.sne24.ru (from DNS server 10.203.14.53)');
    expect(pair.st14!['partner-etrn']!.summary).toMatch(/^mail\.st18\.sne24\.ru answered ETRN #st14\.sne24\.ru: 250/);
    // st18 named as its own partner: DNS says otherwise, and st18 does not back its own domain up.
    expect(pair.st18!['partner-mx']).toMatchObject({ status: 'fail', summary: expect.stringMatching(/MX 20 should be mail\.st18\.sne24\.ru \(the partner\), DNS gives mail\.st14\.sne24\.ru/) });
    expect(pair.st18!['partner-etrn']).toMatchObject({ status: 'fail', summary: expect.stringMatching(/refused ETRN #st18\.sne24\.ru: 458/) });
  }, 400_000);

  it('--tls required on the backup: 5a passes and relay-refused tests the relay rule over STARTTLS (it fails once relaying is open)', async () => {
    const st18 = st('st18');
    const configure = path.join(labDir, 'hosts/st18/configure');
    await switchHost(state, st18, { tls: 'required' });
    try {
      const required = await verifyLab(['--only', '5a-backup-relay,relay-refused']);
      console.log(JSON.stringify(required.st18, null, 2));
      expect(required.st18!['5a-backup-relay']).toMatchObject({ status: 'pass', summary: expect.stringMatching(/^accepted from 10\.203\.14\.100 over STARTTLS: postmaster@st14\.sne24\.ru: 250/) });
      expect(required.st18!['relay-refused']).toMatchObject({ status: 'pass', summary: expect.stringMatching(/refused from 10\.203\.14\.100 over STARTTLS: 550 relay not permitted/) });

      // Relaying opened on purpose (the relay rule cut out of st18's file, rewritten in place: it is bind-mounted).
      const text = await fs.readFile(configure, 'utf8');
      const rule = /\n  require message = relay not permitted\n {10}domains = \+local_domains : \+relay_to_domains\n/;
      expect(text).toMatch(rule);
      await fs.writeFile(configure, text.replace(rule, '\n'));
      await reloadHostDaemon(st18, 'an open relay, for this test');
      const open = await verifyLab(['--only', 'relay-refused']);
      console.log(JSON.stringify(open.st18, null, 2));
      expect(open.st18!['relay-refused']).toMatchObject({ status: 'fail', summary: expect.stringMatching(/over STARTTLS/) });
    } finally {
      await switchHost(state, st18, {});
    }
  }, 400_000);
});
