/**
 * End-to-end: authenticated submission on the machine's real Exim (built with the plaintext
 * authenticator by labctl install, configured for st14.sne24.ru with STARTTLS and SMTPS, daemon
 * running, as 01-08 leave it), tried from outside with swaks --auth as a mail client would:
 * `labctl user add|passwd|remove`, AUTH only inside TLS on 587 and 465 (not on 25), a wrong
 * password refused, the right one accepted and relaying, no relay without a login. Then the
 * verify checks. The login it adds is removed at the end. Needs root.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { labctl } from '../helpers/cli.js';
import { isRoot, requireRoot } from '../helpers/root.js';

const EXIM = '/usr/exim/bin/exim';
const PASSWD = '/usr/exim/passwd';
const NAME = 'e2e-submission';
const FROM = 'exim-test@st14.sne24.ru';
const RELAY_TO = 'someone@relay-test.example';

requireRoot();

const swaks = (args: string[]) => execa('swaks', ['--server', '127.0.0.1', '--timeout', '10', '--from', FROM, '--to', RELAY_TO, ...args], { reject: false });
const authLines = (out: string) => out.split('\n').filter((l) => /^<[-~]\s+250[- ]AUTH\b/.test(l));

describe.runIf(isRoot)('authenticated submission (e2e, real Exim, swaks)', () => {
  let dir: string;
  const passwordFile = (name: string, password: string) => {
    const f = path.join(dir, name);
    return fs.writeFile(f, `${password}\n`).then(() => f);
  };

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-submission-'));
    const bv = await execa(EXIM, ['-bV'], { reject: false });
    expect(bv.stdout, 'this Exim has no plaintext authenticator: run labctl install (it builds AUTH_PLAINTEXT)').toMatch(/^Authenticators:.*\bplaintext\b/m);
    await labctl(['user', 'remove', NAME]);
  });

  afterAll(async () => {
    await labctl(['user', 'remove', NAME]);
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('user add writes a SHA-512 crypt hash, root:exim 0640; bad input exits 2 and changes nothing', async () => {
    const add = await labctl(['user', 'add', NAME, '--password-file', await passwordFile('pw1', 'first-Pass-123')]);
    expect(add.exitCode, add.all).toBe(0);
    const st = await fs.stat(PASSWD);
    expect((st.mode & 0o777).toString(8)).toBe('640');
    expect(st.uid).toBe(0);
    const { stdout: group } = await execa('stat', ['-c', '%G', PASSWD]);
    expect(group).toBe('exim');
    const text = await fs.readFile(PASSWD, 'utf8');
    expect(text).toMatch(new RegExp(`^${NAME}: \\{crypt\\}\\$6\\$[./A-Za-z0-9]+\\$[./A-Za-z0-9]{86}$`, 'm'));
    expect(text).not.toContain('first-Pass-123');

    const bad = [
      ['user', 'add', NAME, '--password-file', await passwordFile('pw-again', 'another-Pass-1')],
      ['user', 'passwd', 'nobody-here', '--password-file', await passwordFile('pw-x', 'another-Pass-1')],
      ['user', 'add', 'Bad:Name', '--password-file', await passwordFile('pw-y', 'another-Pass-1')],
      ['user', 'add', 'short-pw', '--password-file', await passwordFile('pw-z', 'short')],
      ['user', 'add', 'no-terminal'],
    ];
    for (const args of bad) {
      const r = await labctl(args);
      expect(r.exitCode, `${args.join(' ')}: ${r.all}`).toBe(2);
      expect(r.stderr.split('\n')[0]).toMatch(/^labctl: /);
    }
    expect(await fs.readFile(PASSWD, 'utf8')).toBe(text);
  });

  it('AUTH is offered only inside TLS on 587 and 465, never on 25', async () => {
    expect(authLines((await swaks(['--port', '587', '--quit-after', 'EHLO'])).stdout)).toEqual([]);
    expect(authLines((await swaks(['--port', '587', '--tls', '--quit-after', 'EHLO'])).stdout)).toEqual(['<~  250-AUTH PLAIN LOGIN']);
    expect(authLines((await swaks(['--port', '465', '--tls-on-connect', '--quit-after', 'EHLO'])).stdout)).toEqual(['<~  250-AUTH PLAIN LOGIN']);
    expect(authLines((await swaks(['--port', '25', '--tls', '--quit-after', 'EHLO'])).stdout)).toEqual([]);
  });

  it('a wrong password is refused (535); the right one is accepted and may relay (PLAIN, LOGIN, 465)', async () => {
    const wrong = await swaks(['--port', '587', '--tls', '--auth', 'PLAIN', '--auth-user', NAME, '--auth-password', 'not-the-password', '--quit-after', 'AUTH']);
    expect(wrong.exitCode, wrong.stdout).toBe(28);
    expect(wrong.stdout).toMatch(/^<~\* 535 Incorrect authentication data/m);
    for (const args of [['--port', '587', '--tls', '--auth', 'PLAIN'], ['--port', '587', '--tls', '--auth', 'LOGIN'], ['--port', '465', '--tls-on-connect', '--auth', 'PLAIN']]) {
      const r = await swaks([...args, '--auth-user', NAME, '--auth-password', 'first-Pass-123', '--quit-after', 'RCPT']);
      expect(r.exitCode, `${args.join(' ')}:\n${r.stdout}`).toBe(0);
      expect(r.stdout).toMatch(/^<~\s+235 Authentication succeeded/m);
      expect(r.stdout).toMatch(new RegExp(`~> RCPT TO:<${RELAY_TO}>\\n<~\\s+250 Accepted`));
    }
  });

  it('without a login, relaying on 587 is refused with a clear message, even from localhost; local mail is still taken', async () => {
    const r = await swaks(['--port', '587', '--tls', '--quit-after', 'RCPT']);
    expect(r.exitCode, r.stdout).toBe(24);
    expect(r.stdout).toMatch(/^<~\* 550-Relaying through port 587 needs a login/m);
    const local = await execa('swaks', ['--server', '127.0.0.1', '--port', '587', '--tls', '--from', FROM, '--to', FROM, '--quit-after', 'RCPT'], { reject: false });
    expect(local.exitCode, local.stdout).toBe(0);
    // Port 25 is as it was: localhost may relay there (relay_from_hosts), as before.
    expect((await swaks(['--port', '25', '--quit-after', 'RCPT'])).exitCode).toBe(0);
  });

  it('user passwd: the old password is refused, the new one accepted', async () => {
    const r = await labctl(['user', 'passwd', NAME, '--password-file', await passwordFile('pw2', 'second-Pass-456')]);
    expect(r.exitCode, r.all).toBe(0);
    const old = await swaks(['--port', '587', '--tls', '--auth', 'PLAIN', '--auth-user', NAME, '--auth-password', 'first-Pass-123', '--quit-after', 'AUTH']);
    expect(old.exitCode).toBe(28);
    const now = await swaks(['--port', '587', '--tls', '--auth', 'PLAIN', '--auth-user', NAME, '--auth-password', 'second-Pass-456', '--quit-after', 'AUTH']);
    expect(now.exitCode, now.stdout).toBe(0);
    expect((await labctl(['user', 'list'])).stdout.split('\n')).toContain(NAME);
  });

  it('verify: the three submission checks pass and leave no login behind', async () => {
    const before = await fs.readFile(PASSWD, 'utf8');
    const r = await labctl(['verify', '--only', 'submission-auth-tls,submission-login,submission-relay-refused', '--json', '--no-store'], { timeoutMs: 120_000 });
    const report = JSON.parse(r.stdout) as { checks: { id: string; status: string; summary: string; evidence: { command?: string; text?: string }[] }[] };
    for (const c of report.checks) expect(c.status, `${c.id}: ${c.summary}`).toBe('pass');
    expect(r.exitCode).toBe(0);
    expect(await fs.readFile(PASSWD, 'utf8')).toBe(before);
    // The throwaway login's password is not in the evidence.
    const login = report.checks.find((c) => c.id === 'submission-login')!;
    expect(login.evidence.map((e) => `${e.command}\n${e.text}`).join('\n')).toMatch(/--auth-password \*\*\*\*/);
    expect(login.evidence.map((e) => e.text).join('\n')).toMatch(/AUTH PLAIN \*\*\*\*/);
  });
});
