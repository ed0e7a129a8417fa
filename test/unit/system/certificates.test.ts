/**
 * The lab CA and host certificates (src/system/openssl.ts): openssl(1) makes them, and whether
 * those on disk are still right is read with node:crypto. Each case below is made with real
 * openssl, and openssl's own verdict on it (verify, x509 -checkend) is asserted beside labctl's,
 * so a check that stopped agreeing with OpenSSL's command line fails here.
 */
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caFiles, checkCertificatePair, ensureHostCertificate, hostCertificateFiles, hostCertificateReady } from '../../../src/system/openssl.js';

let dir: string;
const openssl = (...args: string[]) => execa('openssl', args, { reject: false });
const opts = (over: { altNames?: string[]; outDir?: string; caDir?: string } = {}) => ({
  caDir: over.caDir ?? path.join(dir, 'ca'),
  hostName: 'mail.st14.sne24.ru',
  outDir: over.outDir ?? path.join(dir, 'tls'),
  group: 'root',
  altNames: over.altNames,
});

beforeAll(async () => {
  expect(process.getuid?.(), 'run the unit tests as root: the certificates are chowned to root').toBe(0);
  dir = await mkdtemp(path.join(os.tmpdir(), 'labctl-certificates-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('host certificates signed by the lab CA', () => {
  it('made once, then kept: ready, and a second run changes nothing', async () => {
    expect(await hostCertificateReady(opts())).toBe(false);
    expect((await ensureHostCertificate(opts())).changed).toBe(true);
    expect(await hostCertificateReady(opts())).toBe(true);
    expect((await ensureHostCertificate(opts())).changed).toBe(false);
    const { certificate } = hostCertificateFiles(opts());
    expect((await openssl('verify', '-CAfile', caFiles(opts().caDir).certificate, certificate)).exitCode).toBe(0);
  });

  it('a certificate another CA signed is not ready (openssl verify refuses it too); put back, it is', async () => {
    const mine = hostCertificateFiles(opts());
    const saved = await readFile(mine.certificate);
    const otherKey = path.join(dir, 'other-ca.key');
    const otherCa = path.join(dir, 'other-ca.pem');
    expect((await openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', otherKey, '-out', otherCa, '-subj', '/CN=labctl lab CA', '-days', '30')).exitCode).toBe(0);
    const csr = path.join(dir, 'other.csr');
    expect((await openssl('req', '-new', '-key', mine.privateKey, '-subj', '/CN=mail.st14.sne24.ru', '-out', csr)).exitCode).toBe(0);
    const ext = path.join(dir, 'other-ext.cnf');
    await writeFile(ext, 'subjectAltName = DNS:mail.st14.sne24.ru\n');
    expect((await openssl('x509', '-req', '-in', csr, '-CA', otherCa, '-CAkey', otherKey, '-set_serial', '7', '-days', '90', '-extfile', ext, '-out', mine.certificate)).exitCode).toBe(0);
    expect((await openssl('verify', '-CAfile', otherCa, mine.certificate)).exitCode).toBe(0);
    expect((await openssl('verify', '-CAfile', caFiles(opts().caDir).certificate, mine.certificate)).exitCode).not.toBe(0);
    expect(await hostCertificateReady(opts())).toBe(false);
    await writeFile(mine.certificate, saved);
    expect(await hostCertificateReady(opts())).toBe(true);
  });

  it('a key that is not the certificate’s is not ready, and --tls-cert/--tls-key refuse the pair', async () => {
    const mine = hostCertificateFiles(opts());
    const saved = await readFile(mine.privateKey);
    const stray = path.join(dir, 'stray.key');
    expect((await openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', stray)).exitCode).toBe(0);
    await expect(checkCertificatePair(mine.certificate, stray)).rejects.toThrow(`--tls-key: ${stray} does not belong to the certificate ${mine.certificate}`);
    await writeFile(mine.privateKey, await readFile(stray));
    expect(await hostCertificateReady(opts())).toBe(false);
    await writeFile(mine.privateKey, saved);
    expect(await hostCertificateReady(opts())).toBe(true);
    await expect(checkCertificatePair(mine.certificate, mine.privateKey)).resolves.toBeUndefined();
  });

  it('a name the certificate lacks makes it not ready; the new one names both', async () => {
    const more = opts({ altNames: ['smtp.st14.sne24.ru'] });
    expect(await hostCertificateReady(more)).toBe(false);
    await ensureHostCertificate(more);
    expect(await hostCertificateReady(more)).toBe(true);
    const san = await openssl('x509', '-in', hostCertificateFiles(more).certificate, '-noout', '-ext', 'subjectAltName');
    expect(san.stdout).toContain('DNS:mail.st14.sne24.ru, DNS:smtp.st14.sne24.ru');
  });

  it('a certificate ending within 30 days is not ready (openssl x509 -checkend agrees); one with months left is', async () => {
    const ca = caFiles(opts().caDir);
    const { certificate, privateKey } = hostCertificateFiles(opts());
    const ext = path.join(dir, 'ext.cnf');
    await writeFile(ext, 'subjectAltName = DNS:mail.st14.sne24.ru\n');
    const csr = path.join(dir, 'host.csr');
    expect((await openssl('req', '-new', '-key', privateKey, '-subj', '/CN=mail.st14.sne24.ru', '-out', csr)).exitCode).toBe(0);
    const sign = (days: number) => openssl('x509', '-req', '-in', csr, '-CA', ca.certificate, '-CAkey', ca.privateKey, '-set_serial', `${days}`, '-days', `${days}`, '-extfile', ext, '-out', certificate);
    const checkend = () => openssl('x509', '-in', certificate, '-noout', '-checkend', String(30 * 24 * 3600));

    expect((await sign(10)).exitCode).toBe(0);
    expect((await checkend()).exitCode).not.toBe(0);
    expect(await hostCertificateReady(opts())).toBe(false);

    expect((await sign(90)).exitCode).toBe(0);
    expect((await checkend()).exitCode).toBe(0);
    expect(await hostCertificateReady(opts())).toBe(true);
  });

  /**
   * Signs with openssl ca, which can date a certificate (x509 -req cannot before OpenSSL 3.4):
   * without `caCert` the CA signs itself (-selfsign). Returns openssl's exit code.
   */
  async function caSign(o: { csr: string; out: string; caCert?: string; caKey: string; start: string; end: string; ext: string }) {
    const db = await mkdtemp(path.join(dir, 'ca-db-'));
    await writeFile(path.join(db, 'index.txt'), '');
    await writeFile(path.join(db, 'serial'), '1000\n');
    const cnf = path.join(db, 'ca.cnf');
    await writeFile(cnf, `[ca]\ndefault_ca = lab\n[lab]\ndatabase = ${db}/index.txt\nnew_certs_dir = ${db}\nserial = ${db}/serial\ndefault_md = sha256\npolicy = any\nunique_subject = no\npreserve = yes\n[any]\ncommonName = supplied\norganizationName = optional\n[ext]\n${o.ext}\n`);
    const signer = o.caCert ? ['-cert', o.caCert] : ['-selfsign'];
    return (await openssl('ca', '-batch', '-config', cnf, ...signer, '-keyfile', o.caKey, '-in', o.csr, '-out', o.out, '-startdate', o.start, '-enddate', o.end, '-extensions', 'ext', '-notext')).exitCode;
  }

  it('outside its dates, or signed by a CA that is not one, a certificate is not ready (openssl verify refuses each too)', async () => {
    const ca = caFiles(opts().caDir);
    const mine = hostCertificateFiles(opts());
    const saved = { cert: await readFile(mine.certificate), ca: await readFile(ca.certificate) };
    // Put back whatever happens: the later tests of this file use the lab CA and certificate.
    try {
      const csr = path.join(dir, 'dated.csr');
      expect((await openssl('req', '-new', '-key', mine.privateKey, '-subj', '/CN=mail.st14.sne24.ru', '-out', csr)).exitCode).toBe(0);
      const hostExt = 'basicConstraints = critical, CA:FALSE\nsubjectAltName = DNS:mail.st14.sne24.ru';
      const verify = async () => (await openssl('verify', '-CAfile', ca.certificate, mine.certificate)).exitCode;
      const sign = (o: { caCert?: string; caKey?: string; start: string; end: string }) => caSign({ csr, out: mine.certificate, caCert: o.caCert ?? ca.certificate, caKey: o.caKey ?? ca.privateKey, start: o.start, end: o.end, ext: hostExt });

      // Not yet valid: it starts in 2035 (and has years left, so only its start says no).
      expect(await sign({ start: '20350101000000Z', end: '20400101000000Z' })).toBe(0);
      expect(await verify()).not.toBe(0);
      expect(await hostCertificateReady(opts())).toBe(false);
      // Ended in 2021.
      expect(await sign({ start: '20200101000000Z', end: '20210101000000Z' })).toBe(0);
      expect(await verify()).not.toBe(0);
      expect(await hostCertificateReady(opts())).toBe(false);
      // Valid now, signed by the same CA this way: ready.
      expect(await sign({ start: '20200101000000Z', end: '20400101000000Z' })).toBe(0);
      expect(await verify()).toBe(0);
      expect(await hostCertificateReady(opts())).toBe(true);

      // The CA's own dates: the CA (same key and name) made again to start in 2035 signs nothing valid today.
      const caCsr = path.join(dir, 'ca.csr');
      expect((await openssl('req', '-new', '-key', ca.privateKey, '-subj', '/CN=labctl lab CA/O=labctl', '-out', caCsr)).exitCode).toBe(0);
      const caExt = 'basicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign';
      expect(await caSign({ csr: caCsr, out: ca.certificate, caKey: ca.privateKey, start: '20350101000000Z', end: '20450101000000Z', ext: caExt })).toBe(0);
      expect(await verify()).not.toBe(0);
      expect(await hostCertificateReady(opts())).toBe(false);

      // A "CA" that says CA:FALSE, its own key, signing the host's certificate.
      expect(await caSign({ csr: caCsr, out: ca.certificate, caKey: ca.privateKey, start: '20200101000000Z', end: '20450101000000Z', ext: 'basicConstraints = critical, CA:FALSE' })).toBe(0);
      expect(await sign({ start: '20200101000000Z', end: '20400101000000Z' })).toBe(0);
      expect(await verify()).not.toBe(0);
      expect(await hostCertificateReady(opts())).toBe(false);

      // An intermediate: a CA certificate that another CA issued is not the trust anchor openssl needs.
      const rootKey = path.join(dir, 'root.key');
      const rootCa = path.join(dir, 'root.pem');
      expect((await openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', rootKey, '-out', rootCa, '-subj', '/CN=another root', '-days', '30')).exitCode).toBe(0);
      expect(await caSign({ csr: caCsr, out: ca.certificate, caCert: rootCa, caKey: rootKey, start: '20200101000000Z', end: '20450101000000Z', ext: caExt })).toBe(0);
      expect(await sign({ start: '20200101000000Z', end: '20400101000000Z' })).toBe(0);
      expect(await verify()).not.toBe(0);
      expect(await hostCertificateReady(opts())).toBe(false);
    } finally {
      await writeFile(ca.certificate, saved.ca);
      await writeFile(mine.certificate, saved.cert);
    }
    expect(await hostCertificateReady(opts())).toBe(true);
  });

  it('a CA whose key was replaced is not usable: the host certificate is not ready, and ready again once the key is back', async () => {
    const ca = caFiles(opts().caDir);
    const saved = await readFile(ca.privateKey);
    expect((await openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path.join(dir, 'ca-stray.key'))).exitCode).toBe(0);
    await writeFile(ca.privateKey, await readFile(path.join(dir, 'ca-stray.key')));
    expect(await hostCertificateReady(opts())).toBe(false);
    await writeFile(ca.privateKey, saved);
    expect(await hostCertificateReady(opts())).toBe(true);
  });
});

describe('a certificate and key given with --tls-cert and --tls-key', () => {
  it('refuses a file that is not a certificate, and an encrypted key, naming the flag', async () => {
    const { certificate, privateKey } = hostCertificateFiles(opts());
    const junk = path.join(dir, 'junk.pem');
    await writeFile(junk, 'not a certificate\n');
    await expect(checkCertificatePair(junk, privateKey)).rejects.toThrow(`--tls-cert: ${junk} is not a PEM certificate`);
    const locked = path.join(dir, 'locked.key');
    expect((await openssl('pkey', '-in', privateKey, '-aes256', '-passout', 'pass:secret', '-out', locked)).exitCode).toBe(0);
    await expect(checkCertificatePair(certificate, locked)).rejects.toThrow(`--tls-key: ${locked} is not a PEM private key (or it is encrypted)`);
  });
});
