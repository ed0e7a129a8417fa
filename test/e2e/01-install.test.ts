/**
 * End-to-end: labctl install from the offline mirror served over HTTP, building real Exim.
 * Needs root. Leaves Exim installed in /usr/exim with its daemon running (via labctl service),
 * which the later e2e files (02-configure, 03-verify, ...) expect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { promises as fs, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { labctl, labctlBin, offlineMirror, repoRoot } from '../helpers/cli.js';
import { serveDirectory } from '../helpers/static-server.js';
import { startSink } from '../../src/verify/sink.js';
import { isRoot, requireRoot } from '../helpers/root.js';

const exim = (args: string[], input?: string) => execa('/usr/exim/bin/exim', args, { reject: false, input });
const eximVersionLine = async () => /^Exim version (\S+)/m.exec((await exim(['-bV'])).stdout)?.[1];

requireRoot();

/**
 * A route for `deferred.test` to 127.0.0.1:2526, where nothing listens until the test starts a
 * receiver: mail for it is deferred and stays in the queue. Returns a function that puts the
 * original configure file back.
 */
const DEFERRED_PORT = 2526;
async function withDeferredRoute(): Promise<() => Promise<void>> {
  const conf = '/usr/exim/configure';
  const original = await fs.readFile(conf, 'utf8');
  const patched = original
    .replace(/^begin routers[ \t]*$/m, `begin routers\n\ndeferred_test:\n  driver = manualroute\n  domains = deferred.test\n  route_list = * 127.0.0.1\n  self = send\n  transport = deferred_smtp\n`)
    .replace(/^begin transports[ \t]*$/m, `begin transports\n\ndeferred_smtp:\n  driver = smtp\n  port = ${DEFERRED_PORT}\n  allow_localhost\n  hosts_avoid_tls = *\n`);
  expect(patched).toContain('deferred_smtp:');
  await fs.writeFile(conf, patched);
  return () => fs.writeFile(conf, original);
}

describe.runIf(isRoot)('labctl install (e2e, real Exim)', () => {
  let mirror: string;
  let server: Awaited<ReturnType<typeof serveDirectory>>;
  let mirrorUrl: string;

  beforeAll(async () => {
    mirror = await offlineMirror();
    server = await serveDirectory(mirror);
    mirrorUrl = `${server.url}/exim4/`;
  }, 120_000);
  afterAll(() => server?.close());

  it('builds, installs and starts exactly Exim 4.96 from a verified tarball, listing its advisories', async () => {
    // Forget any earlier install so this run really downloads, verifies and builds. An earlier
    // run may have left a newer Exim installed: going back to 4.96 is a downgrade.
    await fs.rm('/var/lib/labctl/install.json', { force: true });
    await fs.rm('/var/cache/labctl', { recursive: true, force: true });
    // 4.96 predates DMARC_API, so its DMARC code does not build against Debian 12's libopendmarc:
    // the default (full) build is refused before make, with the flag to use.
    const full = await labctl(['install', '--mirror', mirrorUrl, '--version', '4.96', '--allow-downgrade', '--yes']);
    expect(full.exitCode, full.all).not.toBe(0);
    expect(full.stderr).toMatch(/^labctl: Exim 4\.96 cannot be built with DMARC here: .*DMARC_API/m);
    expect(full.stderr).toContain('--without dmarc');
    expect(full.stdout).not.toMatch(/make -j\d+\s+done/);
    expect(full.stdout).toMatch(/verify PGP signature\s+done.*Jeremy Harris.*A986F3A6BD6377D8730958DEBCE58C8CE41F32DF.*; gpgv agrees/);
    const r = await labctl(['install', '--mirror', mirrorUrl, '--version', '4.96', '--allow-downgrade', '--without', 'dmarc', '--yes']);
    console.log(r.all);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/make -j\d+\s+done/);
    // The refused run above downloaded and verified the release: this one finds it in the cache.
    expect(r.stdout).toMatch(/verify PGP signature\s+already done.*Jeremy Harris.*A986F3A6BD6377D8730958DEBCE58C8CE41F32DF.*; gpgv agrees/);
    expect(r.stdout).toContain('CVE-2023-51766');
    expect(r.stdout).toMatch(/known advisories.*accepted/);
    const bv = await exim(['-bV']);
    expect(bv.stdout).toMatch(/^Exim version 4\.96 /m);
    expect(bv.stdout).toMatch(/^Support for:.*\bOpenSSL\b.*\bSPF\b/m);
    expect(bv.stdout).not.toMatch(/^Support for:.*\bDMARC\b/m);
    const banner = await smtpBanner();
    expect(banner).toMatch(/^220 .*ESMTP Exim 4\.96/);
  }, 900_000);

  it('without --yes and without a terminal, names the advisories and builds nothing', async () => {
    const r = await labctl(['install', '--mirror', mirrorUrl, '--version', '4.96', '--without', 'dmarc']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/known advisories.*no terminal to ask/);
    expect(r.stderr).toContain('--yes');
  }, 120_000);

  it('upgrades 4.96 to the newest verifiable release (4.98.2), skipping 4.100.1 signed by an unpinned key, and keeps the queued mail', async () => {
    const restore = await withDeferredRoute();
    try {
      const ids: string[] = [];
      for (const n of [1, 2, 3]) {
        const sent = await exim(['-odi', '-f', 'upgrade@localhost', `queued${n}@deferred.test`], `Subject: upgrade test ${n}\n\nqueued under 4.96\n`);
        expect(sent.exitCode, sent.stderr).toBe(0);
      }
      const queued = (await exim(['-bp'])).stdout;
      for (const n of [1, 2, 3]) {
        const id = new RegExp(`(\\S+-\\S+-\\S+) <upgrade@localhost>\\n\\s+queued${n}@deferred\\.test`).exec(queued)?.[1];
        expect(id, queued).toBeDefined();
        ids.push(id!);
      }
      console.log(`queued under 4.96: ${ids.join(' ')}`);

      const r = await labctl(['install', '--mirror', mirrorUrl, '--yes']);
      console.log(r.all);
      expect(r.exitCode, r.all).toBe(0);
      expect(r.stdout).toMatch(/skipping Exim 4\.100\.1: signed by key 745A3503EC71104253C5D4490F04D14A28EAFA16.*--trust 745A3503EC71104253C5D4490F04D14A28EAFA16 --keyring FILE/);
      expect(r.stdout).toMatch(/download source and signature\s+done.*exim 4\.98\.2/);
      expect(await eximVersionLine()).toBe('4.98.2');
      // The default build is the full one: SPF and DMARC.
      const support = /^Support for:.*$/m.exec((await exim(['-bV'])).stdout)?.[0] ?? '';
      expect(support).toMatch(/\bSPF\b/);
      expect(support).toMatch(/\bDMARC\b/);
      expect(await smtpBanner()).toMatch(/ESMTP Exim 4\.98\.2/);
      const state = JSON.parse(await fs.readFile('/var/lib/labctl/install.json', 'utf8')) as { version: string; previousVersion?: string };
      expect(state).toMatchObject({ version: '4.98.2', previousVersion: '4.96' });

      const after = (await exim(['-bp'])).stdout;
      for (const id of ids) expect(after, 'a message queued under 4.96 is still listed by 4.98.2').toContain(id);

      const sink = await startSink('127.0.0.1', undefined, DEFERRED_PORT);
      try {
        const run = await exim(['-qff']);
        expect(run.exitCode, run.stderr).toBe(0);
        const first = await sink.message;
        expect(first).toMatch(/Subject: upgrade test \d/);
      } finally {
        sink.close();
      }
      const left = (await exim(['-bp'])).stdout;
      for (const id of ids) expect(left).not.toContain(id);
      const log = await fs.readFile('/var/spool/exim/log/mainlog', 'utf8');
      for (const id of ids) expect(log, `${id} delivered by 4.98.2`).toMatch(new RegExp(`${id} => queued\\d@deferred\\.test R=deferred_test T=deferred_smtp`));
    } finally {
      await restore();
    }
  }, 900_000);

  it('changes nothing on a second run', async () => {
    const started = Date.now();
    const r = await labctl(['install', '--mirror', mirrorUrl, '--yes', '--json']);
    const seconds = (Date.now() - started) / 1000;
    console.log(`warm rerun: ${seconds.toFixed(2)} s`);
    expect(r.exitCode, r.all).toBe(0);
    const out = JSON.parse(r.stdout) as { steps: { id: string; status: string }[] };
    expect(out.steps.map((s) => s.id)).toContain('build');
    expect(out.steps.filter((s) => s.status !== 'ok')).toEqual([]);
  }, 120_000);

  it('links /usr/sbin/sendmail and /usr/lib/sendmail to its Exim in a local package that tells apt an MTA is installed', async () => {
    const ours = await fs.realpath('/usr/exim/bin/exim');
    for (const link of ['/usr/sbin/sendmail', '/usr/lib/sendmail']) {
      expect(await fs.readlink(link), link).toBe('/usr/exim/bin/exim');
      expect(await fs.realpath(link)).toBe(ours);
    }
    const pkg = await execa('dpkg-query', ['-W', '-f', '${db:Status-Abbrev} ${Version} ${Provides}', 'labctl-exim']);
    expect(pkg.stdout).toBe('ii  4.98.2-labctl1 mail-transport-agent');
    expect((await execa('dpkg-query', ['-L', 'labctl-exim'])).stdout.split('\n')).toEqual(expect.arrayContaining(['/usr/sbin/sendmail', '/usr/lib/sendmail']));
    // apt plans bsd-mailx alone: before, it planned exim4-daemon-light, exim4-base and exim4-config.
    const plan = await execa('apt-get', ['install', '-s', '-q', '--no-install-recommends', 'bsd-mailx'], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
    console.log(plan.stdout);
    expect(plan.stdout).toMatch(/^Inst bsd-mailx /m);
    expect(plan.stdout).not.toMatch(/^Inst (exim4|postfix|nullmailer|sendmail|opensmtpd|msmtp-mta)/m);
    // Exim answers as sendmail: -bV through the link.
    expect((await execa('/usr/sbin/sendmail', ['-bV'])).stdout).toMatch(/^Exim version 4\.98\.2 /m);
    const verify = await labctl(['verify', '--only', 'sendmail-link', '--json']);
    const check = (JSON.parse(verify.stdout) as { checks: { id: string; status: string; summary: string }[] }).checks[0];
    expect(check, verify.all).toMatchObject({ id: 'sendmail-link', status: 'pass' });
  }, 120_000);

  it('refuses --version 4.96 over 4.98.2 without --allow-downgrade, and builds nothing', async () => {
    const r = await labctl(['install', '--mirror', mirrorUrl, '--version', '4.96', '--yes']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/refusing to install Exim 4\.96: it is older than the installed 4\.98\.2/);
    expect(r.stderr).toContain('--allow-downgrade');
    expect(r.stdout).not.toMatch(/make -j/);
    expect(await eximVersionLine()).toBe('4.98.2');
  }, 120_000);

  it('stops on a 4.98.2 with one byte changed and does not fall back to 4.96 (even with downgrades allowed)', async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-bad-'));
    const bad = path.join(tmp, 'mirror');
    await fs.cp(mirror, bad, { recursive: true });
    const tarball = path.join(bad, 'exim4/exim-4.98.2.tar.xz');
    const bytes = await fs.readFile(tarball);
    bytes[bytes.length >> 1] ^= 0x01;
    await fs.writeFile(tarball, bytes);
    const badServer = await serveDirectory(bad);
    const env = { LABCTL_BUILD_DIR: path.join(tmp, 'build'), LABCTL_STATE_DIR: path.join(tmp, 'state') };
    try {
      const r = await labctl(['install', '--mirror', `${badServer.url}/exim4/`, '--cache', path.join(tmp, 'cache'), '--allow-downgrade', '--yes'], { env });
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(/exim-4\.98\.2\.tar\.xz does not match its signature.*digest mismatch.*; gpgv: refused \(BADSIG /);
      expect(r.stderr).toMatch(/nothing was built/);
      expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(3);
      expect(existsSync(path.join(tmp, 'build'))).toBe(false);
      expect(existsSync(path.join(tmp, 'cache/exim-4.98.2.tar.xz'))).toBe(false);
      expect(existsSync(path.join(tmp, 'cache/exim-4.96.tar.xz'))).toBe(false);
      expect(await eximVersionLine()).toBe('4.98.2');
    } finally {
      await badServer.close();
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }, 120_000);

  it('stops when gpgv and OpenPGP.js disagree (gpgv given a keyring without the signer), and builds nothing', async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-disagree-'));
    const env = { LABCTL_BUILD_DIR: path.join(tmp, 'build'), LABCTL_STATE_DIR: path.join(tmp, 'state'), LABCTL_TEST_HOOK: 'gpgv-without-signer' };
    try {
      const r = await labctl(['install', '--mirror', mirrorUrl, '--cache', path.join(tmp, 'cache'), '--yes'], { env });
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(/^labctl: OpenPGP\.js and gpgv disagree on exim-4\.98\.2\.tar\.xz: OpenPGP\.js found a good signature by A986F3A6BD6377D8730958DEBCE58C8CE41F32DF, gpgv: refused \(NO_PUBKEY BCE58C8CE41F32DF\)$/m);
      expect(r.stderr).toMatch(/nothing was built/);
      expect(existsSync(path.join(tmp, 'build'))).toBe(false);
      expect(existsSync(path.join(tmp, 'cache/exim-4.98.2.tar.xz'))).toBe(false);
      expect(await eximVersionLine()).toBe('4.98.2');
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }, 120_000);

  it('with no source flags, where exim.org cannot be reached, falls back to Debian\'s archive and installs the newest verifiable release', async () => {
    await fs.rm('/var/cache/labctl', { recursive: true, force: true });
    const r = await labctl(['install', '--yes']);
    console.log(r.all);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/exim\.org cannot be reached .*using Debian's archive/);
    expect(r.stdout).toMatch(/skipping Exim 4\.100\.1: signed by key 745A3503EC71104253C5D4490F04D14A28EAFA16/);
    expect(r.stdout).toMatch(/download source and signature\s+done.*exim 4\.98\.2 \(xz\) from Debian's archive/);
    expect(r.stdout).toMatch(/verify PGP signature\s+done.*A986F3A6BD6377D8730958DEBCE58C8CE41F32DF/);
    expect(await eximVersionLine()).toBe('4.98.2');
  }, 600_000);
});

describe.runIf(isRoot)('labctl install pre-flight and service (e2e)', () => {
  let server: Awaited<ReturnType<typeof serveDirectory>>;
  let mirrorUrl: string;
  beforeAll(async () => {
    server = await serveDirectory(await offlineMirror());
    mirrorUrl = `${server.url}/exim4/`;
  }, 120_000);
  afterAll(() => server?.close());

  it('--dry-run with an empty cache names the release it would download, says unknown where it cannot tell, changes nothing, and needs no root', async () => {
    const before = await fs.stat('/var/lib/labctl/install.json');
    const cache = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-dry-'));
    try {
      const r = await labctl(['install', '--mirror', mirrorUrl, '--cache', path.join(cache, 'c'), '--dry-run']);
      expect(r.exitCode, r.all).toBe(0);
      // The same selection as the run: 4.100.1's .asc read (not kept) and skipped, 4.98.2 to download.
      expect(r.stdout).toMatch(/skipping Exim 4\.100\.1: signed by key 745A3503EC71104253C5D4490F04D14A28EAFA16/);
      expect(r.stdout).toMatch(new RegExp(`download source and signature\\s+would run.*exim 4\\.98\\.2: would download ${mirrorUrl.replace(/[.]/g, '\\.')}exim-4\\.98\\.2\\.tar\\.xz \\(\\+ \\.asc\\)`));
      // 4.98.2 is installed: whether that tarball is the one built cannot be told before it is downloaded.
      expect(r.stdout).toMatch(/make -j\d+\s+unknown.*Exim 4\.98\.2's tarball is not in the cache/);
      expect(existsSync(path.join(cache, 'c'))).toBe(false);
      expect((await fs.stat('/var/lib/labctl/install.json')).mtimeMs).toBe(before.mtimeMs);
    } finally {
      await fs.rm(cache, { recursive: true, force: true });
    }
    // As an unprivileged user: the plan still prints, and a real install is refused. nobody runs
    // a world-readable copy of the built CLI, since this checkout may sit in a private directory
    // (a CI clone) that nobody cannot read; the test runs the same way in both places.
    const copy = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-nobody-'));
    try {
      await execa('cp', ['-a', ...['package.json', 'bin', 'dist', 'templates', 'src', 'node_modules'].map((p) => path.join(repoRoot, p)), copy]);
      await execa('chmod', ['-R', 'a+rX', copy]);
      const asNobody = (extra: string[]) => execa('runuser', ['-u', 'nobody', '--', 'node', path.join(copy, 'bin/labctl'), 'install', '--mirror', mirrorUrl, ...extra], { reject: false, cwd: os.tmpdir() });
      const plan = await asNobody(['--dry-run']);
      expect(plan.exitCode, plan.stderr).toBe(0);
      expect(plan.stdout).toMatch(/download source and signature\s+(already done|would run).*exim 4\.98\.2/);
      const denied = await asNobody([]);
      expect(denied.exitCode).toBe(3);
      expect(denied.stderr).toContain('must run as root');
    } finally {
      await fs.rm(copy, { recursive: true, force: true });
    }
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

  it('--without dmarc rebuilds with SPF only (no SUPPORT_DMARC, no libopendmarc), and a kill -9 in the middle of make converges on the rerun', async () => {
    // A crash in the middle of the build: kill -9 labctl and its make while make runs. install.json
    // is first written when make install begins (the restart-pending mark), so it still names the
    // previous build, and the rerun below completes it.
    const before = await fs.readFile('/var/lib/labctl/install.json', 'utf8');
    const crashed = execa('node', [labctlBin, 'install', '--mirror', mirrorUrl, '--without', 'dmarc', '--yes', '--json'], { reject: false, env: { NO_COLOR: '1' } });
    const making = await waitFor(async () => (await execa('pgrep', ['-f', '^make -j'], { reject: false })).stdout.trim(), 180_000);
    expect(making, 'make started').toBeTruthy();
    await killTree(crashed.pid!);
    expect((await crashed).signal).toBe('SIGKILL');
    expect(await fs.readFile('/var/lib/labctl/install.json', 'utf8')).toBe(before);
    const spf = await labctl(['install', '--mirror', mirrorUrl, '--without', 'dmarc', '--yes', '--json']);
    expect(await eximVersionLine()).toBe('4.98.2');
    expect(spf.exitCode, spf.all).toBe(0);
    const steps = (JSON.parse(spf.stdout) as { steps: { id: string; status: string }[] }).steps;
    expect(steps.find((x) => x.id === 'build')?.status).toBe('changed');
    const makefile = await fs.readFile('/var/lib/labctl/build/exim-4.98.2/Local/Makefile', 'utf8');
    expect(makefile).toMatch(/^SUPPORT_SPF=yes$/m);
    expect(makefile).toMatch(/^LDFLAGS \+= -lspf2$/m);
    expect(makefile).not.toMatch(/^SUPPORT_DMARC=yes$/m);
    expect(makefile).not.toMatch(/^LDFLAGS \+= -lopendmarc$/m);
    const bv = (await execa('/usr/exim/bin/exim', ['-bV'])).stdout;
    expect(bv).toMatch(/^Support for:.*\bSPF\b/m);
    expect(bv).not.toMatch(/^Support for:.*\bDMARC\b/m);
    // And the state says so: the SPF-only build, no restart pending, a daemon on the new binary.
    const state = JSON.parse(await fs.readFile('/var/lib/labctl/install.json', 'utf8')) as InstallJson;
    expect(state.settings).toContainEqual({ name: 'SUPPORT_SPF', op: '=', value: 'yes' });
    expect(state.settings).not.toContainEqual({ name: 'SUPPORT_DMARC', op: '=', value: 'yes' });
    expect(state.restartPending).toBeUndefined();
    expect(await daemonRunsInstalledBinary()).toBe(true);
  }, 600_000);

  it('a run killed between make install and the daemon restart converges on the rerun: the daemon runs the new binary, and install.json says so', async () => {
    // Back from the SPF-only build to the default (full) one, killed (kill -9 by a test hook) right
    // after make install and -bV, before the daemon is restarted.
    const killed = await labctl(['install', '--mirror', mirrorUrl, '--yes'], { env: { LABCTL_TEST_HOOK: 'kill-before-restart' } });
    expect(killed.exitCode, killed.all).not.toBe(0);
    expect((await execa('/usr/exim/bin/exim', ['-bV'])).stdout).toMatch(/^Support for:.*\bDMARC\b/m);
    const marked = JSON.parse(await fs.readFile('/var/lib/labctl/install.json', 'utf8')) as InstallJson;
    expect(marked.restartPending).toMatchObject({ version: '4.98.2', inputsKey: marked.inputsKey });
    expect(marked.settings).toContainEqual({ name: 'SUPPORT_DMARC', op: '=', value: 'yes' });
    expect(await daemonRunsInstalledBinary(), 'the daemon still runs the replaced SPF-only binary').toBe(false);

    const rerun = await labctl(['install', '--mirror', mirrorUrl, '--yes', '--json']);
    expect(rerun.exitCode, rerun.all).toBe(0);
    const steps = (JSON.parse(rerun.stdout) as { steps: { id: string; status: string; detail?: string }[] }).steps;
    const status = (id: string) => steps.find((x) => x.id === id)?.status;
    expect([status('build'), status('make-install')], 'nothing rebuilt').toEqual(['ok', 'ok']);
    expect(status('service')).toBe('changed');
    expect(await daemonRunsInstalledBinary()).toBe(true);
    expect(await smtpBanner()).toMatch(/^220 .*ESMTP Exim 4\.98\.2/);
    const state = JSON.parse(await fs.readFile('/var/lib/labctl/install.json', 'utf8')) as InstallJson;
    expect(state.restartPending).toBeUndefined();
    expect(state).toMatchObject({ version: '4.98.2', inputsKey: marked.inputsKey });

    const again = await labctl(['install', '--mirror', mirrorUrl, '--yes', '--json']);
    expect((JSON.parse(again.stdout) as { steps: { status: string }[] }).steps.filter((x) => x.status !== 'ok')).toEqual([]);
  }, 600_000);

  it('--export-build writes the build once; --from-build --sha256 installs it on a machine with no build, running no make; a tampered tree (also with build.json made to match), a missing digest or a missing feature is refused', async () => {
    type Steps = { steps: { id: string; status: string; detail?: string }[] };
    const stepOf = (out: string, id: string) => (JSON.parse(out) as Steps).steps.find((x) => x.id === id);
    const work = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-prebuilt-'));
    const dir = path.join(work, 'exim-build');
    const installJson = '/var/lib/labctl/install.json';
    const tree = '/var/lib/labctl/build/exim-4.98.2';
    const saved = await fs.readFile(installJson, 'utf8');
    try {
      // A directory that is not an export is never replaced.
      const other = path.join(work, 'other');
      await fs.mkdir(other);
      await fs.writeFile(path.join(other, 'keep.txt'), 'mine\n');
      const refused = await labctl(['install', '--mirror', mirrorUrl, '--yes', '--export-build', other]);
      expect(refused.exitCode, refused.all).toBe(2);
      expect(refused.stderr).toMatch(/^labctl: --export-build .*other: the directory exists and is not a labctl build export \(no build\.json\)/m);
      expect(await fs.readFile(path.join(other, 'keep.txt'), 'utf8')).toBe('mine\n');

      const exported = await labctl(['install', '--mirror', mirrorUrl, '--yes', '--json', '--export-build', dir]);
      expect(exported.exitCode, exported.all).toBe(0);
      expect(stepOf(exported.stdout, 'export-build')).toMatchObject({ status: 'changed' });
      const manifest = JSON.parse(await fs.readFile(path.join(dir, 'build.json'), 'utf8')) as { version: string; inputsKey: string; tree: string };
      // The export records the inputs of the install that made it (read after it: the run may have rebuilt).
      expect(manifest).toMatchObject({ version: '4.98.2', inputsKey: (JSON.parse(await fs.readFile(installJson, 'utf8')) as InstallJson).inputsKey });
      const again = await labctl(['install', '--mirror', mirrorUrl, '--yes', '--json', '--export-build', dir]);
      expect(stepOf(again.stdout, 'export-build')?.status, 'a second export of the same build changes nothing').toBe('ok');

      // The digest the controller computes of the export it fetched: sha256sum build.json.
      const sha256Of = async (file: string) => createHash('sha256').update(await fs.readFile(file)).digest('hex');
      const digest = await sha256Of(path.join(dir, 'build.json'));
      // "Another machine": no install record, no build tree or log, an empty download cache.
      const bare = async () => {
        await fs.rm(installJson, { force: true });
        await fs.rm(tree, { recursive: true, force: true });
        await fs.rm(`${tree}.build.log`, { force: true });
        return fs.mkdtemp(path.join(work, 'cache-'));
      };
      const noDigest = await labctl(['install', '--from-build', dir, '--yes']);
      expect(noDigest.exitCode, noDigest.all).toBe(2);
      expect(noDigest.stderr).toMatch(/^labctl: --from-build .* needs --sha256 DIGEST: the sha256 of its build\.json/m);
      const noDmarc = await labctl(['install', '--from-build', dir, '--sha256', digest, '--without', 'dmarc', '--yes']);
      expect(noDmarc.exitCode, noDmarc.all).toBe(2);
      expect(noDmarc.stderr).toMatch(/^labctl: --without dmarc: --from-build installs the features its build was made with$/m);

      // One byte of the built tree changed: refused before anything is extracted or installed.
      const tampered = path.join(work, 'tampered');
      await fs.cp(dir, tampered, { recursive: true });
      const bytes = await fs.readFile(path.join(tampered, manifest.tree));
      bytes[bytes.length >> 1]! ^= 0xff;
      await fs.writeFile(path.join(tampered, manifest.tree), bytes);
      const binaryBefore = await fs.realpath('/usr/exim/bin/exim');
      const bad = await labctl(['install', '--from-build', tampered, '--sha256', digest, '--yes', '--cache', await bare()]);
      expect(bad.exitCode, bad.all).not.toBe(0);
      expect(bad.stderr).toMatch(/exim-4\.98\.2-build\.tar\.gz does not match build\.json/);
      expect(existsSync(tree), 'nothing extracted').toBe(false);
      expect(await fs.realpath('/usr/exim/bin/exim')).toBe(binaryBefore);
      // The attack: the same tampered tree with build.json rewritten to carry its digest. Only the
      // controller's digest of build.json can tell.
      const forged = JSON.parse(await fs.readFile(path.join(tampered, 'build.json'), 'utf8')) as { treeSha256: string };
      forged.treeSha256 = await sha256Of(path.join(tampered, manifest.tree));
      await fs.writeFile(path.join(tampered, 'build.json'), `${JSON.stringify(forged, null, 2)}\n`);
      const forgedRun = await labctl(['install', '--from-build', tampered, '--sha256', digest, '--yes', '--cache', await bare()]);
      expect(forgedRun.exitCode, forgedRun.all).toBe(1);
      expect(forgedRun.stderr).toMatch(/^labctl: --from-build .*tampered: build\.json has sha256 [0-9a-f]{64}, not the [0-9a-f]{64} given with --sha256$/m);
      expect(existsSync(tree), 'nothing extracted').toBe(false);
      expect(await fs.realpath('/usr/exim/bin/exim')).toBe(binaryBefore);

      const started = performance.now();
      const fromBuild = await labctl(['install', '--from-build', dir, '--sha256', digest, '--yes', '--json', '--cache', await bare()]);
      const seconds = (performance.now() - started) / 1000;
      expect(fromBuild.exitCode, fromBuild.all).toBe(0);
      expect(stepOf(fromBuild.stdout, 'extract')?.detail).toMatch(/programs built on .* into build-[^ ]+ \(exim-4\.98\.2-build\.tar\.gz\)/);
      expect(stepOf(fromBuild.stdout, 'build')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^nothing to compile/) });
      expect(stepOf(fromBuild.stdout, 'make-install')?.status).toBe('changed');
      // No make ran, nothing was compiled: the one command is the verified tarball's install script.
      const commands = (await fs.readFile(`${tree}.build.log`, 'utf8')).split('\n').filter((l) => l.startsWith('$ '));
      console.log(`--from-build: ${seconds.toFixed(1)} s; ran ${commands.join('; ')}`);
      expect(commands).toEqual([expect.stringMatching(/^\$ sh \.\.\/scripts\/exim_install +\(in .*\/build-[^/]+\)$/)]);
      const buildDirs = (await fs.readdir(tree)).filter((n) => n.startsWith('build-'));
      expect(buildDirs).toHaveLength(1);
      expect((await fs.readdir(path.join(tree, buildDirs[0]!))).filter((n) => n.endsWith('.o')), 'no object files copied').toEqual([]);
      expect(await eximVersionLine()).toBe('4.98.2');
      expect(await daemonRunsInstalledBinary()).toBe(true);
      expect((JSON.parse(await fs.readFile(installJson, 'utf8')) as InstallJson).inputsKey).toBe(manifest.inputsKey);
      // And it is the same build the mirror flags describe: nothing to do for them.
      const same = await labctl(['install', '--mirror', mirrorUrl, '--yes']);
      expect(same.stdout).toMatch(/^Nothing to do: Exim 4\.98\.2 is installed and running\.$/m);
    } finally {
      if (!existsSync(installJson)) await fs.writeFile(installJson, saved);
      await fs.rm(work, { recursive: true, force: true });
    }
  }, 600_000);

  it('labctl service stops, starts and reloads the daemon without systemd', async () => {
    const stop = await labctl(['service', 'stop']);
    expect(stop.exitCode, stop.all).toBe(0);
    expect((await labctl(['service', 'status'])).exitCode).toBe(1);
    await expect(smtpBanner()).rejects.toThrow();
    const start = await labctl(['service', 'start']);
    expect(start.exitCode, start.all).toBe(0);
    const pid = /pid (\d+)/.exec(start.stdout)?.[1];
    expect(pid, start.stdout).toMatch(/^\d+$/);
    expect(await smtpBanner()).toMatch(/^220 /);
    const reload = await labctl(['service', 'reload']);
    expect(reload.exitCode, reload.all).toBe(0);
    expect(/pid (\d+)/.exec(reload.stdout)?.[1]).toBe(pid); // a HUP re-execs under the same pid
    expect(await smtpBanner()).toMatch(/^220 /);
  }, 60_000);
});

async function waitFor(probe: () => Promise<string>, timeoutMs: number): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** SIGKILL to a process and every descendant (a crash of the whole run, not just labctl). */
async function killTree(pid: number): Promise<void> {
  const children = (p: number) =>
    execa('pgrep', ['-P', String(p)], { reject: false }).then((r) => r.stdout.split('\n').filter(Boolean).map(Number));
  const all: number[] = [];
  const walk = async (p: number) => {
    all.push(p);
    for (const c of await children(p)) await walk(c);
  };
  await walk(pid);
  for (const p of all) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

interface InstallJson {
  version: string;
  inputsKey: string;
  settings: { name: string; op: string; value: string }[];
  restartPending?: { version: string; inputsKey: string; since: string };
}

/** Whether the daemon labctl service reports runs the file /usr/exim/bin/exim names now (the same inode). */
async function daemonRunsInstalledBinary(): Promise<boolean> {
  const st = await labctl(['service', 'status']);
  const pid = /pid (\d+)/.exec(st.stdout)?.[1];
  expect(pid, st.all).toBeTruthy();
  const [running, installed] = await Promise.all([fs.stat(`/proc/${pid}/exe`), fs.stat('/usr/exim/bin/exim')]);
  return running.ino === installed.ino;
}

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
