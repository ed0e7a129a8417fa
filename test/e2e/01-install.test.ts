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
import { labctl, offlineMirror } from '../helpers/cli.js';
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
