/**
 * End-to-end: labctl install from the offline mirror served over HTTP, building real Exim.
 * Needs root. Leaves Exim installed in /usr/exim with its daemon running (via labctl service),
 * which the later e2e files (02-configure, 03-verify, ...) expect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { labctl, labctlBin, offlineMirror } from '../helpers/cli.js';
import { serveDirectory } from '../helpers/static-server.js';

const isRoot = process.getuid?.() === 0;

describe.runIf(isRoot)('labctl install (e2e, real Exim)', () => {
  let mirror: string;
  let server: Awaited<ReturnType<typeof serveDirectory>>;

  beforeAll(async () => {
    mirror = await offlineMirror();
    server = await serveDirectory(mirror);
  }, 120_000);
  afterAll(() => server?.close());

  it('builds, installs and starts Exim 4.96 from a verified tarball', async () => {
    // Forget any earlier install so this run really downloads, verifies and builds.
    await fs.rm('/var/lib/labctl/install.json', { force: true });
    await fs.rm('/var/cache/labctl', { recursive: true, force: true });
    const r = await labctl(['install', '--mirror', `${server.url}/exim4/`, '--yes']);
    console.log(r.all);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/make -j\d+\s+done/);
    expect(r.stdout).toMatch(/verify PGP signature\s+done.*Jeremy Harris.*A986F3A6BD6377D8730958DEBCE58C8CE41F32DF/);
    const bv = await execa('/usr/exim/bin/exim', ['-bV'], { reject: false });
    expect(bv.stdout).toMatch(/^Exim version 4\.96 /m);
    expect(bv.stdout).toMatch(/^Support for:.*\bOpenSSL\b/m);
    const banner = await smtpBanner();
    expect(banner).toMatch(/^220 .*ESMTP Exim 4\.96/);
  }, 900_000);

  it('changes nothing on a second run', async () => {
    const started = Date.now();
    const r = await labctl(['install', '--mirror', `${server.url}/exim4/`, '--yes', '--json']);
    const seconds = (Date.now() - started) / 1000;
    console.log(`warm rerun: ${seconds.toFixed(2)} s`);
    expect(r.exitCode, r.all).toBe(0);
    const out = JSON.parse(r.stdout) as { steps: { id: string; status: string }[] };
    expect(out.steps.map((s) => s.id)).toContain('build');
    expect(out.steps.filter((s) => s.status !== 'ok')).toEqual([]);
  }, 120_000);

  it('refuses a tarball with one byte changed: signature error, nothing extracted, cache cleaned', async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-bad-'));
    const bad = path.join(tmp, 'mirror');
    await fs.cp(mirror, bad, { recursive: true });
    const tarball = path.join(bad, 'exim4/exim-4.96.tar.xz');
    const bytes = await fs.readFile(tarball);
    bytes[bytes.length >> 1] ^= 0x01;
    await fs.writeFile(tarball, bytes);
    const badServer = await serveDirectory(bad);
    const env = { LABCTL_BUILD_DIR: path.join(tmp, 'build'), LABCTL_STATE_DIR: path.join(tmp, 'state') };
    try {
      const r = await labctl(['install', '--mirror', `${badServer.url}/exim4/`, '--cache', path.join(tmp, 'cache'), '--yes'], { env });
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(/signature/i);
      expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(3);
      expect(existsSync(path.join(tmp, 'build'))).toBe(false);
      expect(existsSync(path.join(tmp, 'cache/exim-4.96.tar.xz'))).toBe(false);
    } finally {
      await badServer.close();
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }, 120_000);
});

describe.runIf(isRoot)('labctl install pre-flight and service (e2e)', () => {
  let server: Awaited<ReturnType<typeof serveDirectory>>;
  let mirrorUrl: string;
  beforeAll(async () => {
    server = await serveDirectory(await offlineMirror());
    mirrorUrl = `${server.url}/exim4/`;
  }, 120_000);
  afterAll(() => server?.close());

  it('--dry-run prints the plan, changes nothing, and needs no root', async () => {
    const before = await fs.stat('/var/lib/labctl/install.json');
    const cache = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-dry-'));
    try {
      const r = await labctl(['install', '--mirror', mirrorUrl, '--cache', path.join(cache, 'c'), '--dry-run']);
      expect(r.exitCode, r.all).toBe(0);
      expect(r.stdout).toContain(`download: ${mirrorUrl}exim-4.96.tar.xz`);
      expect(r.stdout).toMatch(/run: make -j\d+/);
      expect(existsSync(path.join(cache, 'c'))).toBe(false);
      expect((await fs.stat('/var/lib/labctl/install.json')).mtimeMs).toBe(before.mtimeMs);
    } finally {
      await fs.rm(cache, { recursive: true, force: true });
    }
    // As an unprivileged user, when that user can read this checkout (CI clones may sit in a
    // private directory): the plan still prints, and a real install is refused.
    const readable = await execa('runuser', ['-u', 'nobody', '--', 'test', '-r', labctlBin], { reject: false });
    if (readable.exitCode !== 0) return;
    const asNobody = (extra: string[]) => execa('runuser', ['-u', 'nobody', '--', 'node', labctlBin, 'install', '--mirror', mirrorUrl, ...extra], { reject: false, cwd: os.tmpdir() });
    const plan = await asNobody(['--dry-run']);
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`download: ${mirrorUrl}exim-4.96.tar.xz`);
    const denied = await asNobody([]);
    expect(denied.exitCode).toBe(3);
    expect(denied.stderr).toContain('must run as root');
  }, 60_000);

  it('finds a pre-installed MTA, names it and the flag, and removes it only when told to', async () => {
    // nullmailer: a small Debian MTA that also provides /usr/sbin/sendmail (write-up 1a).
    await execa('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'nullmailer'], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
    try {
      const refused = await labctl(['install', '--mirror', mirrorUrl]);
      expect(refused.exitCode).toBe(3);
      expect(refused.stderr).toMatch(/another MTA is installed: package nullmailer/);
      expect(refused.stderr).toContain('--remove-existing');
      const unconfirmed = await labctl(['install', '--mirror', mirrorUrl, '--remove-existing']);
      expect(unconfirmed.exitCode).toBe(2);
      expect(unconfirmed.stderr).toContain('--yes');
      const removed = await labctl(['install', '--mirror', mirrorUrl, '--remove-existing', '--yes']);
      expect(removed.exitCode, removed.all).toBe(0);
      expect(removed.stdout).toMatch(/pre-flight.*done.*removed nullmailer/);
      const status = await execa('dpkg-query', ['-W', '-f', '${db:Status-Abbrev}', 'nullmailer'], { reject: false });
      expect(status.stdout.startsWith('ii')).toBe(false);
    } finally {
      await execa('apt-get', ['purge', '-y', '-q', 'nullmailer'], { reject: false, env: { DEBIAN_FRONTEND: 'noninteractive' } });
    }
  }, 180_000);

  it('--with spf rebuilds with SUPPORT_SPF and libspf2; without it, rebuilds back', async () => {
    const spf = await labctl(['install', '--mirror', mirrorUrl, '--with', 'spf', '--yes', '--json']);
    expect(spf.exitCode, spf.all).toBe(0);
    const steps = (JSON.parse(spf.stdout) as { steps: { id: string; status: string }[] }).steps;
    expect(steps.find((x) => x.id === 'build')?.status).toBe('done');
    const makefile = await fs.readFile('/var/lib/labctl/build/exim-4.96/Local/Makefile', 'utf8');
    expect(makefile).toMatch(/^SUPPORT_SPF=yes$/m);
    expect(makefile).toMatch(/^LDFLAGS \+= -lspf2$/m);
    expect((await execa('/usr/exim/bin/exim', ['-bV'])).stdout).toMatch(/^Support for:.*\bSPF\b/m);
    const back = await labctl(['install', '--mirror', mirrorUrl, '--yes']);
    expect(back.exitCode, back.all).toBe(0);
    expect((await execa('/usr/exim/bin/exim', ['-bV'])).stdout).not.toMatch(/^Support for:.*\bSPF\b/m);
  }, 600_000);

  it('labctl service stops, starts and reloads the daemon without systemd', async () => {
    const stop = await labctl(['service', 'stop']);
    expect(stop.exitCode, stop.all).toBe(0);
    expect((await labctl(['service', 'status'])).exitCode).toBe(1);
    await expect(smtpBanner()).rejects.toThrow();
    const start = await labctl(['service', 'start']);
    expect(start.exitCode, start.all).toBe(0);
    const pid = /pid (\d+)/.exec(start.stdout)?.[1];
    expect(await smtpBanner()).toMatch(/^220 /);
    const reload = await labctl(['service', 'reload']);
    expect(reload.exitCode, reload.all).toBe(0);
    expect(/pid (\d+)/.exec(reload.stdout)?.[1]).toBe(pid); // a HUP re-execs under the same pid
    expect(await smtpBanner()).toMatch(/^220 /);
  }, 60_000);
});

async function smtpBanner(): Promise<string> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.connect(25, '127.0.0.1');
    s.setTimeout(5000, () => reject(new Error('timeout')));
    s.on('error', reject);
    s.once('data', (d) => {
      s.end('QUIT\r\n');
      resolve(d.toString().split('\r\n')[0]);
    });
  });
}
