import { execa } from 'execa';
import { createHash, X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStamp } from '../../src/lab/hosts/logs.js';
import { labctl } from '../helpers/cli.js';
import { isRoot, requireRoot } from '../helpers/root.js';

/**
 * The two-host lab end to end, as root, with real BIND, real Exim and real certificates:
 * lab up (twice), swaks from the client for relaying, both drills, the DNS server stopped,
 * kill -9 of the daemons followed by lab down and a search for anything left behind.
 */
requireRoot();

const labDir = '/var/lib/labctl/lab';

/** Runs a command in the client's namespace (swaks: an SMTP client that is not labctl's own). */
const inClient = (args: string[]) => execa('ip', ['netns', 'exec', 'labctl-client', ...args], { reject: false, timeout: 60_000 });

async function pidOf(file: string): Promise<number> {
  return Number.parseInt((await fs.readFile(file, 'utf8')).trim(), 10);
}

async function leftovers(): Promise<string[]> {
  const out: string[] = [];
  const ns = (await execa('ip', ['netns', 'list'])).stdout;
  for (const line of ns.split('\n')) if (line.startsWith('labctl-')) out.push(`namespace ${line}`);
  for (const e of await fs.readdir('/etc/netns').catch(() => [] as string[])) if (e.startsWith('labctl-')) out.push(`/etc/netns/${e}`);
  if (await fs.stat(labDir).then(() => true, () => false)) out.push(labDir);
  const mounts = await fs.readFile('/proc/self/mountinfo', 'utf8');
  for (const l of mounts.split('\n')) if (l.includes('/run/netns/labctl-') || l.includes(labDir)) out.push(`mount ${l}`);
  const ps = (await execa('ps', ['-eo', 'pid,args'])).stdout;
  for (const l of ps.split('\n')) if (l.includes(labDir) && !l.includes('ps -eo')) out.push(`process ${l.trim()}`);
  return out;
}

/** The step lines of a dry run (every line but the closing `lab:` ones). */
const stepLines = (stdout: string) => stdout.split('\n').filter((l) => l.trim() && !l.startsWith('lab:') && !l.startsWith('  '));

/** What a run could change, each file by its bytes and modification time: the state, the hosts' files, the daemons' pid files. */
async function labFiles(): Promise<Record<string, string>> {
  const files = ['state.json', 'dns/named.pid', ...['st14', 'st18'].flatMap((h) => [`hosts/${h}/configure`, `hosts/${h}/aliases`, `hosts/${h}/exim-daemon.pid`])].map((f) => path.join(labDir, f));
  files.push('/etc/netns/labctl-st14/passwd', '/etc/netns/labctl-st18/passwd');
  const out: Record<string, string> = {};
  for (const f of files) out[f] = `${(await fs.stat(f)).mtimeMs} ${await fs.readFile(f, 'utf8')}`;
  return out;
}

describe.runIf(isRoot)('labctl lab (two hosts, BIND, namespaces)', () => {
  beforeAll(async () => {
    await labctl(['lab', 'down']);
    const up = await labctl(['lab', 'up'], { timeoutMs: 120_000 });
    expect(up.exitCode, up.all).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await labctl(['lab', 'down']);
  }, 60_000);

  it('lab up on a lab that is up is a no-op', async () => {
    const again = await labctl(['lab', 'up']);
    expect(again.exitCode, again.all).toBe(0);
    expect(again.stdout).toMatch(/already up/);
    const st = await labctl(['lab', 'status', '--json']);
    expect(st.exitCode, st.all).toBe(0);
    const status = JSON.parse(st.stdout) as { healthy: boolean; members: { name: string; daemon?: { ports: number[] } }[] };
    expect(status.healthy).toBe(true);
    const st14 = status.members.find((m) => m.name === 'st14')!;
    expect(st14.daemon!.ports).toEqual(expect.arrayContaining([25, 465, 587]));
  }, 60_000);

  it('lab up --dry-run on the lab just built: every step already done, read from the machine, and nothing changed', async () => {
    const before = await labFiles();
    const r = await labctl(['lab', 'up', '--dry-run']);
    expect(r.exitCode, r.all).toBe(0);
    const steps = stepLines(r.stdout);
    expect(steps, r.stdout).toHaveLength(9);
    for (const l of steps) expect(l, r.stdout).toMatch(/ already done /);
    // The hosts' checks compared their files with what configure renders, and the daemons' pids are read.
    expect(r.stdout).toMatch(/st14: configure .* already done .*users, spool, aliases, keys and configure as configure renders them/);
    expect(r.stdout).toMatch(/st18: Exim daemon +already done .* pid \d+/);
    expect(r.stdout).toMatch(/^dns: BIND authoritative server +already done .*named pid \d+; its zones and named\.conf as lab up writes them$/m);
    expect(r.stdout).toMatch(/^lab: up with this topology, every step already done: lab up would change nothing$/m);
    // lab down --dry-run lists what it would remove, and removes nothing.
    const down = await labctl(['lab', 'down', '--dry-run']);
    expect(down.exitCode, down.all).toBe(0);
    expect(down.stdout).toMatch(/^lab: lab down would remove \d+ things:$/m);
    expect(down.stdout).toContain('  network namespace labctl-st14');
    expect(down.stdout).toMatch(/network namespaces +would run .*labctl-st18/);
    expect(await labFiles()).toEqual(before);
    expect((await labctl(['lab', 'status'])).exitCode).toBe(0);
  }, 60_000);

  it('a running lab whose zone, resolver and web server config and host configure were changed on disk: the dry run names those steps, lab up re-applies exactly them to the running daemons', async () => {
    const zone = path.join(labDir, 'dns/st14.sne24.ru.zone');
    const nginx = path.join(labDir, 'hosts/st18/web/nginx.conf');
    const configure = path.join(labDir, 'hosts/st14/configure');
    const unbound = path.join(labDir, 'dns/unbound.conf');
    const changed = [zone, nginx, configure, unbound];
    const untouched = [path.join(labDir, 'hosts/st18/configure'), path.join(labDir, 'hosts/st14/web/nginx.conf'), path.join(labDir, 'hosts/st14/web/mta-sts.txt')];
    const originals = await Promise.all(changed.map((f) => fs.readFile(f, 'utf8')));
    const stamp = async (files: string[]) => Promise.all(files.map(async (f) => `${(await fs.stat(f)).mtimeMs} ${await fs.readFile(f, 'utf8')}`));
    const pids = async () => Promise.all(['dns/named.pid', 'dns/unbound.pid', 'hosts/st14/web/nginx.pid', 'hosts/st18/web/nginx.pid', 'hosts/st14/exim-daemon.pid', 'hosts/st18/exim-daemon.pid'].map((f) => pidOf(path.join(labDir, f))));
    const untouchedBefore = await stamp(untouched);
    const pidsBefore = await pids();
    const serialOf = (text: string) => Number(/^\s*(\d+) ; serial$/m.exec(text)![1]);
    const mainlog = path.join(labDir, 'hosts/st14/spool/log/mainlog');
    const mainlogBefore = (await fs.readFile(mainlog, 'utf8')).length;
    const unboundLog = path.join(labDir, 'dns/unbound.log');
    const unboundLogBefore = (await fs.readFile(unboundLog)).length;
    const workers = async (pidFile: string) => (await execa('ps', ['-o', 'pid=', '--ppid', String(await pidOf(path.join(labDir, pidFile)))], { reject: false })).stdout.split('\n').map((l) => l.trim()).filter(Boolean).sort();
    const st18Workers = await workers('hosts/st18/web/nginx.pid');
    const st14Workers = await workers('hosts/st14/web/nginx.pid');
    expect(st18Workers.length).toBeGreaterThan(0);
    expect(st14Workers.length).toBeGreaterThan(0);
    await fs.appendFile(zone, 'changed IN TXT "by hand, not by lab up"\n');
    await fs.appendFile(nginx, '# changed by hand\n');
    await fs.appendFile(configure, '# changed by hand\n');
    await fs.appendFile(unbound, '# changed by hand\n');

    // The dry run names the four steps, says what lab up would do, and changes nothing.
    const before = await labFiles();
    const dry = await labctl(['lab', 'up', '--dry-run']);
    expect(dry.exitCode, dry.all).toBe(0);
    expect(dry.stdout).toMatch(/^dns: BIND authoritative server +would run .*named pid \d+; not as lab up writes them: \S+\/dns\/st14\.sne24\.ru\.zone; lab up would rewrite them, raising the zones' serials, and reload named$/m);
    expect(dry.stdout).toMatch(/^st18: MTA-STS web server .* would run .*nginx pid \d+; not as lab up writes them: \S+\/hosts\/st18\/web\/nginx\.conf; lab up would rewrite them and reload nginx$/m);
    expect(dry.stdout).toMatch(/^st14: configure .* would run .*would make Exim configuration; lab up would tell its Exim daemon \(pid \d+\) to re-read it$/m);
    expect(dry.stdout).toMatch(/^dns: validating resolver .* would run .*unbound pid \d+; not as lab up writes them: \S+\/dns\/unbound\.conf; lab up would rewrite them and reload unbound$/m);
    // The steps nobody changed are still done: st18's zone is not named, st14's web server and st18's host are done.
    expect(dry.stdout).not.toMatch(/st18\.sne24\.ru\.zone/);
    expect(dry.stdout).toMatch(/^st14: MTA-STS web server .* already done .*nginx\.conf and MTA-STS policy as lab up writes them$/m);
    expect(dry.stdout).toMatch(/^st18: configure .* already done /m);
    const steps = 'st14: configure (model + template); dns: BIND authoritative server; dns: validating resolver (unbound, DNSSEC); st18: MTA-STS web server (nginx, HTTPS)';
    expect(dry.stdout.trim().split('\n').at(-1)).toBe(`lab: lab up would re-apply 4 of 9 steps in the running lab: ${steps}; the rest as it is`);
    expect(await labFiles()).toEqual(before);

    // lab up decides the same, and does it: only those four steps run.
    const up = await labctl(['lab', 'up'], { timeoutMs: 60_000 });
    expect(up.exitCode, up.all).toBe(0);
    expect(up.stdout).not.toMatch(/already up/);
    expect(stepLines(up.stdout).map((l) => l.replace(/ +done .*$/, ''))).toEqual(steps.split('; '));
    expect(up.stdout).toMatch(new RegExp(`^lab: re-applied in the running lab in .*: ${steps.replace(/[()+]/g, '\\$&')}; the rest as it was$`, 'm'));
    // The files are back as lab up renders them; the zone with a higher serial, which named loaded.
    const now = await Promise.all(changed.map((f) => fs.readFile(f, 'utf8')));
    expect(now[1]).toBe(originals[1]);
    expect(now[2]).toBe(originals[2]);
    expect(now[3]).toBe(originals[3]);
    const serial = serialOf(now[0]!);
    expect(serial).toBeGreaterThan(serialOf(originals[0]!));
    expect(now[0]!.replace(/^\s*\d+ ; serial$/m, '')).toBe(originals[0]!.replace(/^\s*\d+ ; serial$/m, ''));
    expect(await fs.readFile(path.join(labDir, 'dns/named.log'), 'utf8')).toContain(`zone st14.sne24.ru/IN (unsigned): loaded serial ${serial}`);
    // named serves it: the SOA serial asked of it inside the lab is at least the one written.
    const soa = await inClient(['dig', '@10.203.14.53', '+short', 'SOA', 'st14.sne24.ru']);
    expect(Number(soa.stdout.trim().split(/\s+/)[2]), soa.stdout).toBeGreaterThanOrEqual(serial);
    // The reloads were acted on: unbound logged a new start of service; st18's nginx has new workers, st14's (not reloaded) the same.
    expect((await fs.readFile(unboundLog)).subarray(unboundLogBefore).toString()).toMatch(/start of service/);
    const st18After = await workers('hosts/st18/web/nginx.pid');
    expect(st18After.length).toBeGreaterThan(0);
    // The old workers leave once idle; lab up waits up to 2 s for them, so look again until they have.
    await expect.poll(async () => (await workers('hosts/st18/web/nginx.pid')).filter((w) => st18Workers.includes(w)), { timeout: 10_000 }).toEqual([]);
    expect(await workers('hosts/st14/web/nginx.pid')).toEqual(st14Workers);
    // st14's Exim re-executed itself on SIGHUP and reread its configure; every daemon runs with the pid it had.
    const log = (await fs.readFile(mainlog, 'utf8')).slice(mainlogBefore);
    expect(log).toMatch(/SIGHUP received: re-exec daemon/);
    expect(log).toMatch(/daemon started: pid=/);
    expect(await pids()).toEqual(pidsBefore);
    for (const pid of pidsBefore) expect(() => process.kill(pid, 0)).not.toThrow();
    // The rest untouched; the lab answers as before (the reloaded resolver validates st14's zone), and lab up now changes nothing.
    expect(await stamp(untouched)).toEqual(untouchedBefore);
    const ad = await inClient(['dig', '@10.203.14.54', '+dnssec', 'MX', 'st14.sne24.ru']);
    expect(ad.stdout).toMatch(/;; flags:[^;]*\bad\b/);
    expect(ad.stdout).toMatch(/MX\s+10 mail\.st14\.sne24\.ru\./);
    const again = await labctl(['lab', 'up', '--dry-run']);
    expect(again.exitCode, again.all).toBe(0);
    expect(again.stdout).toMatch(/^lab: up with this topology, every step already done: lab up would change nothing$/m);
  }, 90_000);

  it('a running lab whose host key was deleted: lab up makes the key and certificate again and re-applies the zones and that host\'s web server after it (the TLSA served and the certificate nginx serves are the new ones)', async () => {
    const cert = path.join(labDir, 'hosts/st14/tls/mail.st14.sne24.ru.pem');
    const oldCert = await fs.readFile(cert, 'utf8');
    await fs.rm(path.join(labDir, 'hosts/st14/tls/mail.st14.sne24.ru.key'));
    // The dry run names the host, and the zones and the web server made from its certificate.
    const steps = 'st14: configure (model + template); dns: BIND authoritative server; st14: MTA-STS web server (nginx, HTTPS)';
    const dry = await labctl(['lab', 'up', '--dry-run']);
    expect(dry.exitCode, dry.all).toBe(0);
    expect(dry.stdout).toMatch(/^dns: BIND authoritative server +would run .*not as lab up writes them: st14's TLS certificate and DKIM key \(its configure step would make them again\)/m);
    expect(dry.stdout).toMatch(/^st14: MTA-STS web server .* would run .*st14's TLS certificate and DKIM key/m);
    expect(dry.stdout.trim().split('\n').at(-1)).toBe(`lab: lab up would re-apply 3 of 9 steps in the running lab: ${steps}; the rest as it is`);
    const up = await labctl(['lab', 'up'], { timeoutMs: 60_000 });
    expect(up.exitCode, up.all).toBe(0);
    expect(stepLines(up.stdout).map((l) => l.replace(/ +done .*$/, ''))).toEqual(steps.split('; '));
    const newCert = await fs.readFile(cert, 'utf8');
    expect(newCert).not.toBe(oldCert);
    const spki = (pem: string) => createHash('sha256').update(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
    const tlsa = (out: string) => out.replace(/\s+/g, '').toLowerCase();
    // The TLSA named serves, and the one the resolver validates, are the new certificate's.
    const served = await inClient(['dig', '@10.203.14.53', '+short', 'TLSA', '_25._tcp.mail.st14.sne24.ru']);
    expect(tlsa(served.stdout)).toBe(`311${spki(newCert)}`);
    const validated = await inClient(['dig', '@10.203.14.54', '+dnssec', '+noall', '+answer', '+comments', 'TLSA', '_25._tcp.mail.st14.sne24.ru']);
    expect(validated.stdout).toMatch(/;; flags:[^;]*\bad\b/);
    expect(validated.stdout).toContain(spki(newCert).toUpperCase().slice(0, 32));
    // nginx serves the new certificate (reloaded), not the one it held.
    const tls = await execa('ip', ['netns', 'exec', 'labctl-client', 'openssl', 's_client', '-connect', '10.203.14.14:443', '-servername', 'mta-sts.st14.sne24.ru'], { input: '', reject: false, timeout: 30_000, all: true });
    const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(tls.stdout)?.[0];
    expect(pem, tls.all).toBeDefined();
    expect(spki(pem!)).toBe(spki(newCert));
    const again = await labctl(['lab', 'up', '--dry-run']);
    expect(again.stdout).toMatch(/^lab: up with this topology, every step already done: lab up would change nothing$/m);
  }, 90_000);

  it('a re-apply whose check refuses a file: lab up fails in one line naming the step, that file left as it was, and the step it re-applied before taken back', async () => {
    const configure = path.join(labDir, 'hosts/st14/configure');
    const nginx = path.join(labDir, 'hosts/st18/web/nginx.conf');
    const errorLog = path.join(labDir, 'hosts/st18/web/error.log');
    await fs.appendFile(configure, '# changed by hand\n');
    await fs.appendFile(nginx, '# changed by hand\n');
    const [confBefore, nginxBefore] = await Promise.all([fs.readFile(configure, 'utf8'), fs.readFile(nginx, 'utf8')]);
    // nginx -t cannot open the error log nginx.conf names: a directory stands in its place.
    await fs.rename(errorLog, `${errorLog}.aside`);
    await fs.mkdir(errorLog);
    try {
      const up = await labctl(['lab', 'up'], { timeoutMs: 60_000 });
      expect(up.exitCode, up.all).not.toBe(0);
      expect(up.stderr.split('\n').find((l) => l.startsWith('labctl:')), up.all).toMatch(/^labctl: st18: nginx -t refused the new \S+\/hosts\/st18\/web\/nginx\.conf: .*error\.log/);
      expect(up.stderr, up.all).toMatch(/undone: st14: configure \(model \+ template\): old configure put back, Exim daemon pid \d+ re-read it/);
      // The refused file was never put in place, nothing staged is left, and st14's configure is back as it was.
      expect(await fs.readFile(nginx, 'utf8')).toBe(nginxBefore);
      expect((await fs.readdir(path.dirname(nginx))).filter((f) => f.startsWith('.'))).toEqual([]);
      expect(await fs.readFile(configure, 'utf8')).toBe(confBefore);
    } finally {
      await fs.rmdir(errorLog);
      await fs.rename(`${errorLog}.aside`, errorLog);
    }
    const again = await labctl(['lab', 'up'], { timeoutMs: 60_000 });
    expect(again.exitCode, again.all).toBe(0);
    const dry = await labctl(['lab', 'up', '--dry-run']);
    expect(dry.stdout).toMatch(/^lab: up with this topology, every step already done: lab up would change nothing$/m);
  }, 150_000);

  it('the lab DNS server publishes MX 10 own host, MX 20 partner (asked inside the lab)', async () => {
    const r = await inClient(['dig', '@10.203.14.53', '+short', 'MX', 'st14.sne24.ru']);
    expect(r.stdout.split('\n').sort()).toEqual(['10 mail.st14.sne24.ru.', '20 mail.st18.sne24.ru.']);
  });

  it('swaks from the client: st18 relays for its partner st14, refuses a third-party domain', async () => {
    const partner = await inClient([
      'swaks', '--server', '10.203.14.18', '--ehlo', 'client.lab', '--from', 'mohamed@st18.sne24.ru',
      '--to', 'ahmed@st14.sne24.ru', '--header', 'Message-ID: <e2e-relay-partner@client.lab>',
    ]);
    expect(partner.exitCode, partner.stdout).toBe(0);
    const third = await inClient([
      'swaks', '--server', '10.203.14.18', '--ehlo', 'client.lab', '--from', 'mohamed@st18.sne24.ru',
      '--to', 'someone@example.org', '--quit-after', 'RCPT',
    ]);
    // 24: no recipient accepted.
    expect(third.exitCode, third.stdout).toBe(24);
    expect(third.stdout).toMatch(/<\*\* +550 relay not permitted/);
    // The relayed message reaches ahmed's mailbox on st14, through st18.
    const mailbox = path.join(labDir, 'hosts/st14/mail/ahmed');
    await expect.poll(async () => (await fs.readFile(mailbox, 'utf8').catch(() => '')).includes('e2e-relay-partner@client.lab'), { timeout: 15_000 }).toBe(true);
  }, 60_000);

  it('backup-mx drill, N=100 forced (-qff): nothing lost, nothing duplicated', async () => {
    const r = await labctl(['lab', 'drill', 'backup-mx', '--messages', '100', '--force', '--json'], { timeoutMs: 120_000 });
    expect(r.exitCode, r.all).toBe(0);
    const f = JSON.parse(r.stdout);
    expect(Object.keys(f)).toEqual(['sent', 'heldOnBackup', 'delivered', 'lost', 'duplicates', 'heldSeconds', 'recoverySeconds']);
    expect(f).toMatchObject({ sent: 100, heldOnBackup: 100, delivered: 100, lost: 0, duplicates: 0 });
    const rec = JSON.parse(await fs.readFile('/var/lib/labctl/evidence/drill/backup-mx/latest.json', 'utf8'));
    const timeline = rec.evidence.find((e: { label: string }) => e.label === 'timeline').data.messages;
    expect(timeline).toHaveLength(100);
    expect(timeline.every((m: { sent?: number; held?: number; delivered?: number }) => m.sent && m.held && m.delivered)).toBe(true);
  }, 150_000);

  it("backup-mx drill without --force: one of st18's own queue runs delivers all of it after the return (4c)", async () => {
    const r = await labctl(['lab', 'drill', 'backup-mx', '--messages', '10', '--json'], { timeoutMs: 180_000 });
    expect(r.exitCode, r.all).toBe(0);
    const f = JSON.parse(r.stdout);
    expect(f).toMatchObject({ sent: 10, heldOnBackup: 10, delivered: 10, lost: 0, duplicates: 0 });
    // Not a bound on the seconds (the return falls anywhere in the runner's minute): st18's sends to
    // st14 all lie within one queue run the daemon started itself ("Start queue run: pid=N", no
    // -qff or -R after it, as a run labctl or ETRN started would have).
    const rec = JSON.parse(await fs.readFile('/var/lib/labctl/evidence/drill/backup-mx-retry/latest.json', 'utf8'));
    const figures = rec.evidence.find((e: { label: string }) => e.label === 'figures').data;
    const send = figures.logPhases.backupSend as { count: number; first: number; last: number };
    expect(send.count).toBe(10);
    const carrying = async () => {
      const runs: { pid: string; flags: string; start: number; end?: number }[] = [];
      for (const line of (await fs.readFile(path.join(labDir, 'hosts/st18/spool/log/mainlog'), 'utf8')).split('\n')) {
        const m = /(Start|End) queue run: pid=(\d+)(.*)$/.exec(line);
        const at = parseStamp(line);
        if (!m || at === undefined) continue;
        if (m[1] === 'Start') runs.push({ pid: m[2]!, flags: m[3]!.trim(), start: at });
        else {
          const open = [...runs].reverse().find((q) => q.pid === m[2] && q.end === undefined);
          if (open) open.end = at;
        }
      }
      return runs.filter((q) => q.start <= send.first && q.end !== undefined && q.end >= send.last);
    };
    // Its "End queue run" line may come just after the drill returns.
    await expect.poll(async () => (await carrying()).length, { timeout: 15_000 }).toBeGreaterThan(0);
    const covering = await carrying();
    expect(covering.map((q) => q.flags).filter(Boolean), 'a queue run labctl or ETRN started (its flags)').toEqual([]);
    const run = covering[0]!;
    console.log(`4c: st14 back; st18's queue run pid=${run.pid} (started ${((send.first - run.start) / 1000).toFixed(1)} s before its first send) delivered all ${send.count}; ${f.recoverySeconds} s from the return`);
  }, 200_000);

  it('the 4c run (retry rule) and the 5c run (forced) are both kept: the later one does not hide the other', async () => {
    const figures = async (id: string) => {
      const rec = JSON.parse(await fs.readFile(`/var/lib/labctl/evidence/drill/${id}/latest.json`, 'utf8'));
      return rec.evidence.find((e: { label: string }) => e.label === 'figures').data as { forced: boolean; sent: number; flush?: string };
    };
    expect(await figures('backup-mx')).toMatchObject({ forced: true, sent: 100, flush: 'qff' });
    expect(await figures('backup-mx-retry')).toMatchObject({ forced: false, sent: 10, flush: 'retry' });
  });

  it('TLS drill: STARTTLS verified, SMTPS, TLS-required (swaks), DKIM, SPF', async () => {
    const r = await labctl(['lab', 'drill', 'tls', '--json'], { timeoutMs: 120_000 });
    expect(r.exitCode, r.all).toBe(0);
    const j = JSON.parse(r.stdout) as { checks: { id: string; ok: boolean }[]; failed: number };
    expect(j.checks.map((c) => c.id)).toEqual(['starttls-verified', 'dkim-pass', 'spf-pass', 'smtps-465', 'tls-required-plain', 'tls-required-starttls']);
    expect(j.failed).toBe(0);
    // Back in starttls+smtps mode afterwards: plaintext MAIL is accepted again.
    const plain = await inClient(['swaks', '--server', '10.203.14.14', '--ehlo', 'client.lab', '--from', 'mohamed@st18.sne24.ru', '--to', 'ahmed@st14.sne24.ru', '--quit-after', 'RCPT']);
    expect(plain.exitCode, plain.stdout).toBe(0);
  }, 150_000);

  it('verify --lab runs the verify checks against each lab host from inside the lab', async () => {
    const r = await labctl(['verify', '--lab', '--json', '--no-store'], { timeoutMs: 120_000 });
    expect(r.exitCode, r.all).toBe(0);
    const reports = JSON.parse(r.stdout) as Record<string, { failed: number; checks: { id: string; status: string }[] }>;
    expect(Object.keys(reports).sort()).toEqual(['st14', 'st18']);
    for (const rep of Object.values(reports)) {
      expect(rep.failed).toBe(0);
      expect(rep.checks.find((c) => c.id === '4a-dns-mx')?.status).toBe('pass');
      expect(rep.checks.find((c) => c.id === '6-starttls')?.status).toBe('pass');
    }
  }, 150_000);

  it('with the DNS server stopped, a drill fails with a clear message within its timeout', async () => {
    process.kill(await pidOf(path.join(labDir, 'dns/named.pid')), 'SIGKILL');
    const started = Date.now();
    const r = await labctl(['lab', 'drill', 'backup-mx', '--messages', '5', '--json'], { timeoutMs: 60_000 });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/lab DNS server .* does not answer/);
    expect(Date.now() - started).toBeLessThan(20_000);
    const st = await labctl(['lab', 'status']);
    expect(st.exitCode).not.toBe(0);
  }, 60_000);

  it('after kill -9 of every daemon, lab down removes everything and is safe twice', async () => {
    for (const h of ['st14', 'st18']) process.kill(await pidOf(path.join(labDir, `hosts/${h}/exim-daemon.pid`)), 'SIGKILL');
    const down = await labctl(['lab', 'down']);
    expect(down.exitCode, down.all).toBe(0);
    expect(await leftovers()).toEqual([]);
    const again = await labctl(['lab', 'down']);
    expect(again.exitCode, again.all).toBe(0);
    const check = await labctl(['lab', 'leftovers']);
    expect(check.exitCode, check.all).toBe(0);
  }, 60_000);

  it('with the lab down: lab down --dry-run has nothing to do, and lab up --dry-run shows every step that would run, making nothing', async () => {
    expect((await labctl(['lab', 'down'])).exitCode).toBe(0);
    const down = await labctl(['lab', 'down', '--dry-run']);
    expect(down.exitCode, down.all).toBe(0);
    expect(down.stdout).toMatch(/^lab: nothing to do: the lab is down and nothing of it is left$/m);
    expect(stepLines(down.stdout).length, down.stdout).toBeGreaterThan(0);
    for (const l of stepLines(down.stdout)) expect(l, down.stdout).toMatch(/ already done /);
    const up = await labctl(['lab', 'up', '--dry-run']);
    expect(up.exitCode, up.all).toBe(0);
    const steps = stepLines(up.stdout);
    expect(steps, up.stdout).toHaveLength(9);
    for (const l of steps) expect(l, up.stdout).toMatch(/ would run /);
    expect(up.stdout).toMatch(/st14: configure .* would run .*would make local users, mail spool, postmaster alias, .*Exim configuration/);
    expect(up.stdout).toMatch(/^lab: lab up would run 9 of 9 steps$/m);
    expect(await leftovers()).toEqual([]);
  }, 60_000);

  it('lab down says how many queued messages each host discards, and --keep-spool copies the spools out first', async () => {
    const keep = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-e2e-spool-'));
    /** st14 down, then `count` messages for it handed to st18, its backup MX, which holds them. */
    const queueOnSt18 = async (count: number, tag: string) => {
      const up = await labctl(['lab', 'up'], { timeoutMs: 120_000 });
      expect(up.exitCode, up.all).toBe(0);
      process.kill(await pidOf(path.join(labDir, 'hosts/st14/exim-daemon.pid')), 'SIGTERM');
      for (let i = 1; i <= count; i++) {
        const r = await inClient([
          'swaks', '--server', '10.203.14.18', '--ehlo', 'client.lab', '--from', 'mohamed@st18.sne24.ru',
          '--to', 'ahmed@st14.sne24.ru', '--header', `Message-ID: <e2e-${tag}-${i}@client.lab>`,
        ]);
        expect(r.exitCode, r.stdout).toBe(0);
      }
      const queues = async () => {
        const st = JSON.parse((await labctl(['lab', 'status', '--json'])).stdout) as { members: { name: string; queue?: number }[] };
        return Object.fromEntries(st.members.filter((m) => m.queue !== undefined).map((m) => [m.name, m.queue]));
      };
      await expect.poll(queues, { timeout: 15_000 }).toEqual({ st14: 0, st18: count });
    };
    try {
      await queueOnSt18(3, 'kept');
      const kept = await labctl(['lab', 'down', '--keep-spool', keep]);
      expect(kept.exitCode, kept.all).toBe(0);
      expect(kept.stdout).toContain('lab: st14: no queued messages');
      expect(kept.stdout).toContain(`lab: st18: 3 queued messages removed; spool kept in ${keep}/st18`);
      // The count comes before the removal.
      expect(kept.stdout.indexOf('st18: 3 queued')).toBeLessThan(kept.stdout.indexOf('lab: down in'));
      expect(await leftovers()).toEqual([]);
      const input = (await fs.readdir(path.join(keep, 'st18/input'))).filter((f) => f.endsWith('-H'));
      expect(input).toHaveLength(3);
      const headers = await Promise.all(input.map((f) => fs.readFile(path.join(keep, 'st18/input', f), 'utf8')));
      for (let i = 1; i <= 3; i++) expect(headers.some((h) => h.includes(`<e2e-kept-${i}@client.lab>`)), `message ${i} kept`).toBe(true);
      const mainlog = await fs.readFile(path.join(keep, 'st18/log/mainlog'), 'utf8');
      for (const f of input) expect(mainlog).toContain(`${f.slice(0, -2)} <= mohamed@st18.sne24.ru`);

      // Without --keep-spool the messages are gone, and lab down says so.
      await queueOnSt18(2, 'discarded');
      const discarded = await labctl(['lab', 'down']);
      expect(discarded.exitCode, discarded.all).toBe(0);
      expect(discarded.stdout).toContain('lab: st18: 2 queued messages discarded');
      // A directory that already holds a kept spool is refused before anything is removed.
      await queueOnSt18(1, 'refused');
      const refused = await labctl(['lab', 'down', '--keep-spool', keep]);
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toContain(`${keep}/st14 already exists`);
      expect((await labctl(['lab', 'status'])).stdout).toMatch(/^lab: up/);
    } finally {
      await labctl(['lab', 'down']);
      await fs.rm(keep, { recursive: true, force: true });
    }
  }, 300_000);

  it('a host that cannot be configured is named, and nothing is left behind', async () => {
    const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-e2e-')), 'lab.yaml');
    await fs.writeFile(file, [
      'hosts:',
      '  - { name: st14, domain: st14.sne24.ru, address: 10.203.14.14, users: [ahmed] }',
      '  - { name: st18, domain: st18.sne24.ru, address: 10.203.14.18, users: [root] }',
      '',
    ].join('\n'));
    const r = await labctl(['lab', 'up', '--config', file], { timeoutMs: 120_000 });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/st18: users\[0\]/);
    expect(await leftovers()).toEqual([]);
    await fs.rm(path.dirname(file), { recursive: true, force: true });
  }, 150_000);
});
