import { promises as fs } from 'node:fs';
import { createPrivateKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LabError, usageError } from '../errors.js';
import { ensureOwnership, ownedAs, readIfExists, writeAtomic } from './files.js';
import { run } from './run.js';
import { groupId, requireGroupId } from './accounts.js';

/**
 * Keys and certificates for the lab: a small CA made once, host certificates it signs (so a
 * partner host can verify them with tls_verify_certificates). Each function
 * leaves files that are already right alone and says whether it changed anything. openssl(1)
 * makes keys and certificates; whether those on disk are still right is read with Node's own
 * OpenSSL (node:crypto's X509Certificate), which answers without a process per question.
 */

export interface LabCa {
  certificate: string;
  privateKey: string;
  changed: boolean;
}

export interface HostCertificate {
  certificate: string;
  privateKey: string;
  changed: boolean;
}

const CA_DAYS = 3650;
const HOST_DAYS = 825;
/** A certificate closer than this to its end is renewed. */
const RENEW_BEFORE_SECONDS = 30 * 24 * 3600;

async function openssl(args: string[], input?: string) {
  return run('openssl', args, { input, allowFailure: true, timeoutMs: 60_000 });
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(tmpdir(), 'labctl-ssl-'));
  try {
    return await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** What a PEM file holds, read by `parse`; undefined when there is no file or `parse` refuses it. */
async function readPem<T>(file: string, parse: (pem: string) => T): Promise<T | undefined> {
  const text = await readIfExists(file);
  try {
    return text === undefined ? undefined : parse(text);
  } catch {
    return undefined;
  }
}
const readCertificate = (file: string) => readPem(file, (pem) => new X509Certificate(pem));
/** An unencrypted private key: an encrypted one is refused as Exim would (it cannot ask for a passphrase). */
const readPrivateKey = (file: string) => readPem(file, (pem) => createPrivateKey(pem));

/** Whether the private key is the one the certificate was made for (false for a key of another type). */
const keyMatches = (cert: X509Certificate, key: KeyObject) => {
  try {
    return cert.checkPrivateKey(key);
  } catch {
    return false;
  }
};

/** True when the certificate is valid for at least the renewal margin (openssl x509 -checkend). */
const notExpiring = (cert: X509Certificate) => Date.parse(cert.validTo) - Date.now() > RENEW_BEFORE_SECONDS * 1000;
const current = (cert: X509Certificate) => Date.parse(cert.validFrom) <= Date.now() && Date.now() <= Date.parse(cert.validTo);

/**
 * What openssl verify -CAfile ca asks of the lab's own certificates: the CA a self-signed CA
 * (CA:TRUE), the certificate issued and signed by it, both within their dates. Critical
 * extensions labctl never writes are not looked at.
 */
const signedBy = (cert: X509Certificate, ca: X509Certificate) =>
  ca.ca && ca.checkIssued(ca) && ca.verify(ca.publicKey) && cert.checkIssued(ca) && cert.verify(ca.publicKey) && current(cert) && current(ca);

/** The DNS names in the certificate's subjectAltName, lower case. */
const dnsNames = (cert: X509Certificate) => [...(cert.subjectAltName ?? '').matchAll(/DNS:([^,\s]+)/g)].map((m) => m[1]!.toLowerCase());

/**
 * The lab CA in `dir`: ca.pem (public) and ca.key (root only). Made once; kept while it is a
 * valid CA certificate matching its key.
 */
export const caFiles = (dir: string) => ({ certificate: path.join(dir, 'ca.pem'), privateKey: path.join(dir, 'ca.key') });

/** The CA ensureLabCa keeps: both files there, not expiring, the certificate matching its key. */
async function caUsable(certificate: string, privateKey: string): Promise<boolean> {
  const [cert, key] = [await readCertificate(certificate), await readPrivateKey(privateKey)];
  return !!cert && !!key && notExpiring(cert) && keyMatches(cert, key);
}

export async function ensureLabCa(dir: string): Promise<LabCa> {
  const { certificate, privateKey } = caFiles(dir);
  if (await caUsable(certificate, privateKey)) {
    const changed = (await ensureOwnership(privateKey, 0, 0, 0o600)) || (await ensureOwnership(certificate, 0, 0, 0o644));
    return { certificate, privateKey, changed };
  }
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  await withTempDir(async (tmp) => {
    const conf = path.join(tmp, 'ca.cnf');
    await fs.writeFile(
      conf,
      [
        '[req]',
        'distinguished_name = dn',
        'x509_extensions = v3_ca',
        'prompt = no',
        '[dn]',
        'CN = labctl lab CA',
        'O = labctl',
        '[v3_ca]',
        'basicConstraints = critical, CA:TRUE',
        'keyUsage = critical, keyCertSign, cRLSign',
        'subjectKeyIdentifier = hash',
        '',
      ].join('\n'),
    );
    const key = path.join(tmp, 'ca.key');
    const crt = path.join(tmp, 'ca.pem');
    const r = await openssl(['req', '-x509', '-config', conf, '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', String(CA_DAYS), '-sha256']);
    if (r.exitCode !== 0) throw new LabError(`openssl could not make the lab CA: ${lastLine(r.stderr)}`);
    await writeAtomic(privateKey, await fs.readFile(key), { mode: 0o600, uid: 0, gid: 0 });
    await writeAtomic(certificate, await fs.readFile(crt), { mode: 0o644, uid: 0, gid: 0 });
  });
  return { certificate, privateKey, changed: true };
}

const lastLine = (s: string) => s.trim().split('\n').filter(Boolean).slice(-1)[0] ?? 'no message';

export interface HostCertificateOptions {
  caDir: string;
  hostName: string;
  outDir: string;
  /** Group that may read the key (Exim reads it after dropping to its own user); default exim. */
  group?: string;
  /** More names for subjectAltName besides hostName. */
  altNames?: string[];
}

/**
 * A key and certificate for `hostName`, signed by the lab CA, with every name in
 * subjectAltName: <outDir>/<hostName>.pem (root:<group> 0644) and .key (root:<group> 0640).
 * Kept when still valid, signed by this CA, matching its key and naming every host name.
 */
function hostCertificateNames(opts: HostCertificateOptions): string[] {
  const names = [...new Set([opts.hostName, ...(opts.altNames ?? [])].map((n) => n.toLowerCase()))];
  for (const n of names) {
    if (!/^[a-z0-9.-]+$/.test(n)) throw usageError(`certificate name ${JSON.stringify(n)} is not a DNS name`);
  }
  return names;
}

/** Where ensureHostCertificate keeps the certificate and key (whether or not they exist yet). */
export const hostCertificateFiles = (opts: Pick<HostCertificateOptions, 'hostName' | 'outDir'>) => ({
  certificate: path.join(opts.outDir, `${opts.hostName}.pem`),
  privateKey: path.join(opts.outDir, `${opts.hostName}.key`),
});

/** The certificate ensureHostCertificate keeps: signed by the CA, matching its key, naming every name, not expiring. */
async function hostCertificateUsable(caCertificate: string, certificate: string, privateKey: string, names: string[]): Promise<boolean> {
  const [ca, cert, key] = [await readCertificate(caCertificate), await readCertificate(certificate), await readPrivateKey(privateKey)];
  if (!ca || !cert || !key) return false;
  const present = dnsNames(cert);
  return signedBy(cert, ca) && keyMatches(cert, key) && names.every((n) => present.includes(n)) && notExpiring(cert);
}

/**
 * Read-only: whether ensureHostCertificate would leave the CA, the key and the certificate as
 * they are (labctl configure --dry-run asks). Throws when a file cannot be read (not root).
 */
export async function hostCertificateReady(opts: HostCertificateOptions): Promise<boolean> {
  const gid = await groupId(opts.group ?? 'exim');
  const ca = caFiles(opts.caDir);
  const { certificate, privateKey } = hostCertificateFiles(opts);
  if (gid === undefined || !(await caUsable(ca.certificate, ca.privateKey))) return false;
  if (!(await ownedAs(ca.privateKey, 0, 0, 0o600)) || !(await ownedAs(ca.certificate, 0, 0, 0o644))) return false;
  if (!(await hostCertificateUsable(ca.certificate, certificate, privateKey, hostCertificateNames(opts)))) return false;
  return (await ownedAs(privateKey, 0, gid, 0o640)) && (await ownedAs(certificate, 0, gid, 0o644));
}

export async function ensureHostCertificate(opts: HostCertificateOptions): Promise<HostCertificate> {
  const gid = await requireGroupId(opts.group ?? 'exim');
  const names = hostCertificateNames(opts);
  const ca = await ensureLabCa(opts.caDir);
  const { certificate, privateKey } = hostCertificateFiles(opts);

  if (!ca.changed && (await hostCertificateUsable(ca.certificate, certificate, privateKey, names))) {
    const k = await ensureOwnership(privateKey, 0, gid, 0o640);
    const c = await ensureOwnership(certificate, 0, gid, 0o644);
    return { certificate, privateKey, changed: k || c };
  }

  await fs.mkdir(opts.outDir, { recursive: true, mode: 0o755 });
  await withTempDir(async (tmp) => {
    const key = path.join(tmp, 'host.key');
    const csr = path.join(tmp, 'host.csr');
    const crt = path.join(tmp, 'host.pem');
    const ext = path.join(tmp, 'ext.cnf');
    await fs.writeFile(
      ext,
      [
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature, keyEncipherment',
        'extendedKeyUsage = serverAuth, clientAuth',
        `subjectAltName = ${names.map((n) => `DNS:${n}`).join(', ')}`,
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid',
        '',
      ].join('\n'),
    );
    const steps: string[][] = [
      ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key],
      ['req', '-new', '-key', key, '-subj', `/CN=${opts.hostName}`, '-out', csr],
      ['x509', '-req', '-in', csr, '-CA', ca.certificate, '-CAkey', ca.privateKey, '-set_serial', `0x${randomBytes(12).toString('hex')}`,
        '-days', String(HOST_DAYS), '-sha256', '-extfile', ext, '-out', crt],
    ];
    for (const args of steps) {
      const r = await openssl(args);
      if (r.exitCode !== 0) throw new LabError(`openssl ${args[0]} failed for ${opts.hostName}: ${lastLine(r.stderr)}`);
    }
    await writeAtomic(privateKey, await fs.readFile(key), { mode: 0o640, uid: 0, gid });
    await writeAtomic(certificate, await fs.readFile(crt), { mode: 0o644, uid: 0, gid });
  });
  return { certificate, privateKey, changed: true };
}

/**
 * Checks a certificate and key given by the user (--tls-cert, --tls-key): both readable PEM,
 * and the key belongs to the certificate. Throws a usage error naming the flag.
 */
export async function checkCertificatePair(cert: string, key: string, flags = { cert: '--tls-cert', key: '--tls-key' }): Promise<void> {
  for (const [file, flag] of [[cert, flags.cert], [key, flags.key]] as const) {
    const st = await fs.stat(file).catch(() => undefined);
    if (!st) throw usageError(`${flag}: ${file} does not exist`, `give an existing PEM file, or leave ${flag} out and labctl makes one`);
    if (!st.isFile()) throw usageError(`${flag}: ${file} is not a regular file`);
  }
  const a = await readCertificate(cert);
  if (!a) throw usageError(`${flags.cert}: ${cert} is not a PEM certificate`, 'check it with openssl x509 -in FILE -noout -text');
  const b = await readPrivateKey(key);
  if (!b) throw usageError(`${flags.key}: ${key} is not a PEM private key (or it is encrypted)`, 'Exim needs an unencrypted PEM key');
  if (!keyMatches(a, b)) throw usageError(`${flags.key}: ${key} does not belong to the certificate ${cert}`, 'give the key the certificate was made for');
}
