/**
 * End-to-end: `labctl configure` against the real Exim that 01-install built into /usr/exim,
 * with its daemon running via `labctl service`. Needs root. Leaves the host configured for
 * st14.sne24.ru in the default TLS mode (STARTTLS on 25/587, TLS on 465), daemon running.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { execa } from 'execa';
import { labctl, labctlBin, offlineMirror } from '../helpers/cli.js';
import { serveDirectory } from '../helpers/static-server.js';
import { safeInstallConfigure } from '../../src/config/swap.js';
import { confirmDaemonServing } from '../../src/config/apply.js';
import { renderConfigure } from '../../src/config/render.js';
import { validateModel } from '../../src/config/validate.js';
import { controlService } from '../../src/state/service.js';
import { isRoot, requireRoot } from '../helpers/root.js';

requireRoot();

const EXIM = '/usr/exim/bin/exim';
const CONFIGURE = '/usr/exim/configure';
const DOMAIN = 'st14.sne24.ru';
const MAILBOX = '/var/mail/exim-test';

const sha = async (file: string) => createHash('sha256').update(await fs.readFile(file)).digest('hex');

async function daemonPid(): Promise<number | undefined> {
  const text = await fs.readFile('/run/exim.pid', 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  if (!(pid > 0)) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** A minimal SMTP client on a raw socket: sends a line, reads one complete (multi-line) reply. */
class Smtp {
  private buffer = '';
  private waiting?: () => void;
  private constructor(private socket: net.Socket | tls.TLSSocket) {
    this.listen();
  }

  private listen() {
    this.socket.setEncoding('utf8');
    this.socket.on('data', (d: string) => {
      this.buffer += d;
      this.waiting?.();
    });
  }

  static async connect(port: number, implicitTls = false): Promise<{ smtp: Smtp; greeting: string }> {
    const socket = implicitTls
      ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: `mail.${DOMAIN}` })
      : net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once(implicitTls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const smtp = new Smtp(socket);
    return { smtp, greeting: await smtp.reply() };
  }

  get encrypted() {
    return this.socket instanceof tls.TLSSocket && this.socket.encrypted;
  }

  async reply(timeoutMs = 10_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = /(^|\n)\d{3} [^\n]*\r?\n/.exec(this.buffer);
      if (m) {
        const upto = m.index + m[0].length;
        const text = this.buffer.slice(0, upto);
        this.buffer = this.buffer.slice(upto);
        return text.trimEnd();
      }
      if (Date.now() > end) throw new Error(`no SMTP reply; got ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((r) => {
        this.waiting = r;
        setTimeout(r, 100);
      });
    }
  }

  async send(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  async startTls(): Promise<string> {
    const answer = await this.send('STARTTLS');
    if (!answer.startsWith('220')) return answer;
    this.socket.removeAllListeners('data');
    const secure = tls.connect({ socket: this.socket as net.Socket, rejectUnauthorized: false, servername: `mail.${DOMAIN}` });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.listen();
    return answer;
  }

  close() {
    this.socket.destroy();
  }
}

/** The one message in an mbox file that carries `marker`, headers and body. */
function messageWith(mbox: string, marker: string): string | undefined {
  return mbox.split(/\n(?=From )/).find((m) => m.includes(marker));
}

describe.runIf(isRoot)('labctl configure (e2e, real Exim)', () => {
  beforeAll(async () => {
    // npm test builds dist/ first; the CLI runs as `node bin/labctl`.
    const st = await labctl(['service', 'start']);
    expect(st.exitCode, st.all).toBe(0);
  }, 120_000);

  afterAll(async () => {
    // Leave the default configuration for the later e2e files.
    await labctl(['configure', '--domain', DOMAIN, '--yes']);
  }, 120_000);

  it('configures the lab host', async () => {
    const r = await labctl(['configure', '--domain', DOMAIN, '--yes']);
    console.log(r.all);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/Exim configuration\s+(done|already done)/);
    expect(await daemonPid()).toBeGreaterThan(0);
  }, 120_000);

  it('routes postmaster@st14.sne24.ru to exim-test via local_delivery', async () => {
    const r = await execa(EXIM, ['-bt', `postmaster@${DOMAIN}`], { reject: false });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^exim-test@${DOMAIN.replace(/\./g, '\\.')}\\n\\s+<-- postmaster@`, 'm'));
    expect(r.stdout).toMatch(/router = localuser, transport = local_delivery/);
  });

  it('delivers to /var/mail/exim-test with Delivery-date, Envelope-to and Return-path, mode 0660, group mail', async () => {
    const marker = `labctl-e2e-${randomBytes(6).toString('hex')}`;
    const r = await execa(EXIM, ['-odi', `exim-test@${DOMAIN}`], { input: `Subject: ${marker}\n\nHello from the configure test\n`, reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    const message = messageWith(await fs.readFile(MAILBOX, 'utf8'), marker);
    expect(message, 'the message is in the mailbox').toBeDefined();
    expect(message).toMatch(/^Delivery-date: /m);
    expect(message).toMatch(new RegExp(`^Envelope-to: exim-test@${DOMAIN}$`, 'm'));
    expect(message).toMatch(/^Return-path: <root@st14\.sne24\.ru>$/m);
    const st = await fs.stat(MAILBOX);
    expect((st.mode & 0o777).toString(8)).toBe('660');
    const mailGid = Number((await execa('getent', ['group', 'mail'])).stdout.split(':')[2]);
    expect(st.gid).toBe(mailGid);
  });

  it('offers STARTTLS on port 25 and speaks TLS at once on 465', async () => {
    const plain = await Smtp.connect(25);
    expect(plain.greeting).toMatch(/^220 /);
    const ehlo = await plain.smtp.send('EHLO client.test');
    expect(ehlo).toMatch(/^250-STARTTLS\r?$/m);
    expect(await plain.smtp.startTls()).toMatch(/^220/);
    expect(plain.smtp.encrypted).toBe(true);
    expect(await plain.smtp.send('EHLO client.test')).toMatch(/^250/);
    plain.smtp.close();

    const smtps = await Smtp.connect(465, true);
    expect(smtps.smtp.encrypted).toBe(true);
    expect(smtps.greeting).toMatch(/^220 .*ESMTP Exim/);
    smtps.smtp.close();

    // The certificate names the mail host and was signed by the lab CA.
    const s = await execa('openssl', ['s_client', '-connect', '127.0.0.1:465', '-CAfile', '/var/lib/labctl/ca/ca.pem', '-verify_hostname', `mail.${DOMAIN}`, '-brief'], {
      input: 'QUIT\r\n',
      reject: false,
      timeout: 15_000,
    });
    expect(s.stderr).toMatch(/Verification: OK/);
  });

  it('a certificate Exim could not use leaves the installed file byte-identical and the daemon running', async () => {
    const before = await sha(CONFIGURE);
    const pid = await daemonPid();
    expect(pid, 'the daemon must be running before this test').toBeGreaterThan(0);
    const r = await labctl(['configure', '--domain', DOMAIN, '--yes', '--tls-cert', '/nonexistent/cert.pem', '--tls-key', '/nonexistent/key.pem']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/^labctl: --tls-cert: \/nonexistent\/cert\.pem does not exist$/m);
    expect(await sha(CONFIGURE)).toBe(before);
    expect(await daemonPid()).toBe(pid);
  });

  it('a configuration Exim rejects is not installed, and the error shows Exim\'s own message', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-cfg-e2e-'));
    const target = path.join(dir, 'configure');
    const good = await renderConfigure(validateModel({ domain: DOMAIN, tls: 'off' }), {});
    await fs.writeFile(target, good);
    let reloads = 0;
    const attempt = safeInstallConfigure({
      text: good.replace('never_users = root', 'never_users = root\nno_such_option = 1'),
      target,
      eximBinary: EXIM,
      testAddresses: [`postmaster@${DOMAIN}`],
      reload: async () => {
        reloads++;
      },
    });
    await expect(attempt).rejects.toThrow(/^Exim refused the new configuration: .*main option "no_such_option" unknown/);
    expect(await fs.readFile(target, 'utf8')).toBe(good);
    expect(await fs.readdir(dir)).toEqual(['configure']);
    expect(reloads).toBe(0);

    // Routing must reach local_delivery: a configuration without the alias router fails -bt.
    const noAliases = good.replace(/^system_aliases:[\s\S]*?(?=^localuser:)/m, '');
    await expect(safeInstallConfigure({ text: noAliases, target, eximBinary: EXIM, testAddresses: [`postmaster@${DOMAIN}`], reload: async () => {} }))
      .rejects.toThrow(/postmaster@st14\.sne24\.ru does not route to local_delivery/);
    expect(await fs.readFile(target, 'utf8')).toBe(good);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('a configuration that kills the daemon on reload is rolled back byte for byte and the daemon restarted', async () => {
    const before = await fs.readFile(CONFIGURE);
    const beforeIno = (await fs.stat(CONFIGURE)).ino;
    // -bV and -bt accept this file, but the reloaded daemon cannot bind the extra port.
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen({ port: 2626, host: '::', ipv6Only: false }, () => r()));
    try {
      const text = before.toString().replace(/^daemon_smtp_ports = (.*)$/m, 'daemon_smtp_ports = $1 : 2626\ndaemon_startup_retries = 0');
      await expect(
        safeInstallConfigure({
          text,
          target: CONFIGURE,
          eximBinary: EXIM,
          testAddresses: [`postmaster@${DOMAIN}`, `exim-test@${DOMAIN}`],
          reload: async () => {
            await controlService('reload');
            await confirmDaemonServing();
          },
          restart: async () => void (await controlService('restart')),
          inPlace: true,
        }),
      ).rejects.toThrow(/^the daemon did not survive the new configuration: .*socket bind\(\) to port 2626.*daemon abandoned.*the previous configuration was restored and the daemon was restarted on it$/);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
    expect((await fs.readFile(CONFIGURE)).equals(before)).toBe(true);
    // In place: the same inode throughout (what a bind-mounted file needs).
    expect((await fs.stat(CONFIGURE)).ino).toBe(beforeIno);
    expect(await daemonPid()).toBeGreaterThan(0);
    const { greeting, smtp } = await Smtp.connect(25);
    expect(greeting).toMatch(/^220 /);
    smtp.close();
  }, 60_000);

  it('a configure Exim refuses (a key the exim user cannot read) leaves configure.json, the aliases and the DKIM keys as they were, says what stays applied, and verify still tests the installed domain', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-refused-'));
    const cert = path.join(dir, 'other.pem');
    const key = path.join(dir, 'other.key');
    const state = '/var/lib/labctl/configure.json';
    // What an earlier labctl's refused run may have left behind: this test needs it absent.
    await fs.rm('/usr/exim/dkim/other.example.lab.key', { force: true });
    const before = { configure: await sha(CONFIGURE), state: await fs.readFile(state, 'utf8'), aliases: await fs.readFile('/etc/aliases', 'utf8'), dkim: (await fs.readdir('/usr/exim/dkim')).sort() };
    expect(JSON.parse(before.state).model.domain, 'the state the earlier tests left').toBe(DOMAIN);
    const pid = await daemonPid();
    try {
      await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=mail.other.example', '-addext', 'subjectAltName=DNS:mail.other.example']);
      await fs.chmod(key, 0o600); // root only: the exim user cannot read it
      await fs.chmod(dir, 0o755);
      // A new postmaster makes the run change the aliases file and create a user before Exim refuses.
      const r = await labctl(['configure', '--yes', '--domain', 'other.example', '--user', 'exim-test', '--user', 'refusedpm', '--postmaster', 'refusedpm', '--tls-cert', cert, '--tls-key', key]);
      console.log(r.all);
      expect(r.exitCode, r.all).not.toBe(0);
      expect(r.stderr).toMatch(/tls_privatekey = .*other\.key: not readable by the exim user/);
      expect(await sha(CONFIGURE)).toBe(before.configure);
      expect(await fs.readFile(state, 'utf8'), 'configure.json still describes the installed configuration').toBe(before.state);
      expect((await fs.readdir('/usr/exim/dkim')).sort()).toEqual(before.dkim);
      expect(await fs.readFile('/etc/aliases', 'utf8')).toBe(before.aliases);
      expect(await daemonPid()).toBe(pid);
      // The error says what was taken back and what stays applied.
      expect(r.stderr).toMatch(/undone: postmaster alias: \/etc\/aliases put back as it was; DKIM key: removed \/usr\/exim\/dkim\/other\.example\.lab\.key, which this run created/);
      expect(r.stderr).toMatch(/still applied: local users \(refusedpm created/);
      // verify reads configure.json: it tests the installed domain, not the refused one.
      const v = await labctl(['verify', '--json', '--no-store', '--only', '3a-route-local'], { timeoutMs: 60_000 });
      const check = (JSON.parse(v.stdout) as { checks: { id: string; status: string; summary: string }[] }).checks[0]!;
      expect(check.status, check.summary).toBe('pass');
      expect(check.summary).toContain(`@${DOMAIN}`);
      expect(check.summary).not.toContain('other.example');
    } finally {
      await execa('userdel', ['-r', 'refusedpm'], { reject: false });
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('a second identical run reports nothing changed and leaves identical files', async () => {
    const first = await labctl(['configure', '--domain', DOMAIN, '--yes']);
    expect(first.exitCode, first.all).toBe(0);
    const files = [CONFIGURE, '/etc/aliases', `/usr/exim/tls/mail.${DOMAIN}.pem`, `/usr/exim/tls/mail.${DOMAIN}.key`, `/usr/exim/dkim/${DOMAIN}.lab.key`];
    const before = await Promise.all(files.map(sha));
    const backups = (await fs.readdir('/usr/exim')).filter((n) => n.endsWith('.bak')).sort();
    const pid = await daemonPid();
    expect(pid, 'the daemon must be running before this test').toBeGreaterThan(0);

    const r = await labctl(['configure', '--domain', DOMAIN, '--yes', '--json']);
    expect(r.exitCode, r.all).toBe(0);
    const out = JSON.parse(r.stdout) as { changed: boolean; steps: Array<{ id: string; status: string }> };
    expect(out.changed).toBe(false);
    expect(out.steps.filter((s) => s.status !== 'ok' && s.status !== 'skipped')).toEqual([]);
    expect(await Promise.all(files.map(sha))).toEqual(before);
    expect((await fs.readdir('/usr/exim')).filter((n) => n.endsWith('.bak')).sort()).toEqual(backups);
    expect(await daemonPid()).toBe(pid);
    // At most five backups are kept.
    expect(backups.length).toBeLessThanOrEqual(5);
  }, 120_000);

  it('a configure killed between the swap and the reload converges on the rerun: the daemon serves the new file', async () => {
    expect((await labctl(['configure', '--domain', DOMAIN, '--yes'])).exitCode).toBe(0);
    const plainMail = async () => {
      const { smtp } = await Smtp.connect(25);
      await smtp.send('EHLO client.test');
      const reply = await smtp.send(`MAIL FROM:<root@${DOMAIN}>`);
      await smtp.send('QUIT').catch(() => '');
      smtp.close();
      return reply;
    };
    // kill -9 right after the new file is renamed into place, before the daemon is told.
    const killed = await labctl(['configure', '--domain', DOMAIN, '--yes', '--tls', 'required'], { env: { LABCTL_TEST_HOOK: 'kill-before-reload' } });
    expect(killed.exitCode, killed.all).not.toBe(0);
    expect(await fs.readFile(CONFIGURE, 'utf8')).toMatch(/TLS required: send STARTTLS first/);
    expect(JSON.parse(await fs.readFile('/var/lib/labctl/configure.json', 'utf8')).reloadPending).toBe(true);
    expect(await plainMail(), 'the daemon still runs the old configuration').toMatch(/^250/);
    // The rerun sees identical bytes, but the mark says the daemon never read them.
    const rerun = await labctl(['configure', '--domain', DOMAIN, '--yes', '--tls', 'required']);
    expect(rerun.exitCode, rerun.all).toBe(0);
    expect(rerun.stdout).toMatch(/reloaded after an interrupted run/);
    expect(await plainMail()).toMatch(/^5\d\d .*TLS required/);
    expect(JSON.parse(await fs.readFile('/var/lib/labctl/configure.json', 'utf8')).reloadPending).toBeUndefined();
  }, 120_000);

  it('with --tls required, MAIL FROM on a plaintext session is refused and accepted after STARTTLS', async () => {
    const r = await labctl(['configure', '--domain', DOMAIN, '--yes', '--tls', 'required']);
    expect(r.exitCode, r.all).toBe(0);
    const { smtp } = await Smtp.connect(25);
    await smtp.send('EHLO client.test');
    expect(await smtp.send(`MAIL FROM:<root@${DOMAIN}>`)).toMatch(/^5\d\d .*TLS required/);
    expect(await smtp.startTls()).toMatch(/^220/);
    await smtp.send('EHLO client.test');
    expect(await smtp.send(`MAIL FROM:<root@${DOMAIN}>`)).toMatch(/^250/);
    expect(await smtp.send(`RCPT TO:<exim-test@${DOMAIN}>`)).toMatch(/^250/);
    await smtp.send('QUIT').catch(() => '');
    smtp.close();
  }, 120_000);

  it('right after install and configure ran, install --dry-run and configure --dry-run report every step already done', async () => {
    const server = await serveDirectory(await offlineMirror());
    const mirrorArgs = ['--mirror', `${server.url}/exim4/`];
    type Plan = { steps: { id: string; status: string; detail?: string }[] };
    const notDone = (out: string) => (JSON.parse(out) as Plan).steps.filter((s) => s.status !== 'ok' && s.status !== 'skipped');
    try {
      const installed = await labctl(['install', ...mirrorArgs, '--yes']);
      expect(installed.exitCode, installed.all).toBe(0);
      const configured = await labctl(['configure', '--domain', DOMAIN, '--yes']);
      expect(configured.exitCode, configured.all).toBe(0);

      const installPlan = await labctl(['install', ...mirrorArgs, '--dry-run', '--json']);
      expect(installPlan.exitCode, installPlan.all).toBe(0);
      const steps = (JSON.parse(installPlan.stdout) as Plan).steps;
      console.log(steps.map((s) => `${s.id}: ${s.status}${s.detail ? ` (${s.detail})` : ''}`).join('\n'));
      expect(steps.map((s) => s.id)).toEqual(expect.arrayContaining(['1b-source', '1c-signature', 'build', 'make-install', 'service']));
      expect(notDone(installPlan.stdout), 'install --dry-run: steps not already done').toEqual([]);
      expect(steps.find((s) => s.id === '1b-source')?.detail).toMatch(/^exim 4\.98\.2 \(xz\) from .*, cached; skipped 4\.100\.1 \(unpinned key\)/);
      expect(steps.find((s) => s.id === '1c-signature')?.detail).toMatch(/good signature by .*A986F3A6BD6377D8730958DEBCE58C8CE41F32DF/);

      const configurePlan = await labctl(['configure', '--domain', DOMAIN, '--dry-run', '--json']);
      expect(configurePlan.exitCode, configurePlan.all).toBe(0);
      expect(notDone(configurePlan.stdout), 'configure --dry-run: steps not already done').toEqual([]);
      expect((JSON.parse(configurePlan.stdout) as { changed: boolean }).changed).toBe(false);
    } finally {
      await server.close();
    }
  }, 300_000);

  it('two configure runs at once: the second fails with 75 naming the first, which alone claims success', async () => {
    const holders = '/run/labctl/holders';
    const start = (args: string[]) => execa('node', [labctlBin, 'configure', '--domain', DOMAIN, '--yes', ...args], { env: { NO_COLOR: '1' }, reject: false, stdin: 'ignore' });
    const heldBy = async (pid: number) => (await fs.readdir(holders).catch(() => [] as string[])).includes(String(pid));
    const waitUntilHolding = async (pid: number) => {
      for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) if (await heldBy(pid)) return;
      throw new Error(`labctl configure (pid ${pid}) never took the lock`);
    };

    // From TLS required, so that each run below changes something.
    const setUp = await start(['--tls', 'required']);
    expect(setUp.exitCode, setUp.stderr).toBe(0);
    const tlsRequired = /TLS required: send STARTTLS first/;

    // The default run first; the TLS-required run starts while the first one holds the lock. A
    // configure takes under a second, about as long as Node takes to start: the first is paused
    // (SIGSTOP) while it holds the lock, so the two runs overlap every time, as a slow one would.
    const first = start([]);
    await waitUntilHolding(first.pid!);
    process.kill(first.pid!, 'SIGSTOP');
    const second = await start(['--tls', 'required']).finally(() => process.kill(first.pid!, 'SIGCONT'));
    const firstDone = await first;
    const all = (r: typeof second) => `${r.stdout}\n${r.stderr}`;
    expect(firstDone.exitCode, all(firstDone)).toBe(0);
    expect(firstDone.stdout).toContain(`Exim is configured for ${DOMAIN}.`);
    expect(second.exitCode, all(second)).toBe(75);
    expect(second.stdout, 'the refused run claims nothing').toBe('');
    expect(second.stderr.trim().split('\n')).toEqual([expect.stringContaining(`pid ${first.pid} (labctl configure --domain ${DOMAIN} --yes)`)]);
    // The installed file is the one run that said it configured Exim.
    expect(await fs.readFile(CONFIGURE, 'utf8')).not.toMatch(tlsRequired);

    // With --wait, the second run waits its turn; both succeed, one after the other, and the last wins.
    const third = start(['--tls', 'required']);
    await waitUntilHolding(third.pid!);
    process.kill(third.pid!, 'SIGSTOP');
    const waiting = execa('node', [labctlBin, '--wait', '120', 'configure', '--domain', DOMAIN, '--yes'], { env: { NO_COLOR: '1' }, reject: false, stdin: 'ignore' });
    let settled = false;
    void waiting.finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 2000));
    expect(settled, 'the waiting run is still waiting').toBe(false);
    process.kill(third.pid!, 'SIGCONT');
    const fourth = await waiting;
    const thirdDone = await third;
    expect(thirdDone.exitCode, all(thirdDone)).toBe(0);
    expect(thirdDone.stdout).toContain(`Exim is configured for ${DOMAIN}.`);
    expect(fourth.exitCode, all(fourth)).toBe(0);
    expect(fourth.stdout).toContain(`Exim is configured for ${DOMAIN}.`);
    expect(await fs.readFile(CONFIGURE, 'utf8')).not.toMatch(tlsRequired);
    expect(await heldBy(third.pid!)).toBe(false);
  }, 240_000);
});
