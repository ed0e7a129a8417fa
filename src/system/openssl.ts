import { promises as fs } from 'node:fs';
import { generateKeyPair, createPublicKey, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { LabError, usageError } from '../errors.js';
import { readIfExists, writeAtomic } from './files.js';
import { run } from './run.js';
import { groupId, requireGroupId } from './accounts.js';

/**
 * Keys and certificates for the lab: a small CA made once, host certificates it signs (so a
 * partner host can verify them with tls_verify_certificates), and DKIM keys. Each function
 * leaves files that are already right alone and says whether it changed anything.
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

export interface DkimKey {
  privateKey: string;
  publicKeyPem: string;
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

/** Makes owner, group and mode what they should be; returns whether it had to. */
async function ensureOwnership(file: string, uid: number, gid: number, mode: number): Promise<boolean> {
  const st = await fs.stat(file);
  let changed = false;
  if (st.uid !== uid || st.gid !== gid) {
    await fs.chown(file, uid, gid);
    changed = true;
  }
  if ((st.mode & 0o7777) !== mode) {
    await fs.chmod(file, mode);
    changed = true;
  }
  return changed;
}

/** Whether owner, group and mode already are as ensureOwnership would make them. */
async function ownedAs(file: string, uid: number, gid: number, mode: number): Promise<boolean> {
  const st = await fs.stat(file);
  return st.uid === uid && st.gid === gid && (st.mode & 0o7777) === mode;
}

async function publicKeyOfCertificate(cert: string): Promise<string | undefined> {
  const r = await openssl(['x509', '-in', cert, '-noout', '-pubkey']);
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

async function publicKeyOfKey(key: string): Promise<string | undefined> {
  const r = await openssl(['pkey', '-in', key, '-pubout']);
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/** True when the certificate is valid for at least the renewal margin. */
async function notExpiring(cert: string): Promise<boolean> {
  return (await openssl(['x509', '-in', cert, '-noout', '-checkend', String(RENEW_BEFORE_SECONDS)])).exitCode === 0;
}

/** The DNS names in the certificate's subjectAltName. */
export async function certificateNames(cert: string): Promise<string[]> {
  const r = await openssl(['x509', '-in', cert, '-noout', '-ext', 'subjectAltName']);
  if (r.exitCode !== 0) return [];
  return [...r.stdout.matchAll(/DNS:([^,\s]+)/g)].map((m) => m[1]!.toLowerCase());
}

/**
 * The lab CA in `dir`: ca.pem (public) and ca.key (root only). Made once; kept while it is a
 * valid CA certificate matching its key.
 */
export const caFiles = (dir: string) => ({ certificate: path.join(dir, 'ca.pem'), privateKey: path.join(dir, 'ca.key') });

/** The CA ensureLabCa keeps: both files there, not expiring, the certificate matching its key. */
async function caUsable(certificate: string, privateKey: string): Promise<boolean> {
  const haveBoth = (await readIfExists(certificate)) !== undefined && (await readIfExists(privateKey)) !== undefined;
  if (!haveBoth || !(await notExpiring(certificate))) return false;
  const [a, b] = await Promise.all([publicKeyOfCertificate(certificate), publicKeyOfKey(privateKey)]);
  return !!a && a === b;
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
  if ((await readIfExists(certificate)) === undefined || (await readIfExists(privateKey)) === undefined) return false;
  const verified = (await openssl(['verify', '-CAfile', caCertificate, certificate])).exitCode === 0;
  const present = await certificateNames(certificate);
  const [a, b] = await Promise.all([publicKeyOfCertificate(certificate), publicKeyOfKey(privateKey)]);
  return verified && !!a && a === b && names.every((n) => present.includes(n)) && (await notExpiring(certificate));
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
  const a = await publicKeyOfCertificate(cert);
  if (!a) throw usageError(`${flags.cert}: ${cert} is not a PEM certificate`, 'check it with openssl x509 -in FILE -noout -text');
  const b = await publicKeyOfKey(key);
  if (!b) throw usageError(`${flags.key}: ${key} is not a PEM private key (or it is encrypted)`, 'Exim needs an unencrypted PEM key');
  if (a !== b) throw usageError(`${flags.key}: ${key} does not belong to the certificate ${cert}`, 'give the key the certificate was made for');
}

/**
 * A 2048-bit RSA DKIM signing key at `keyPath`, root:<group> 0640 (Exim signs as the exim
 * user). Kept when it exists and is an RSA key of at least 2048 bits.
 */
export async function ensureDkimKey(keyPath: string, group = 'exim'): Promise<DkimKey> {
  const gid = await requireGroupId(group);
  const existing = await readIfExists(keyPath);
  if (existing !== undefined) {
    try {
      const pub = createPublicKey(existing);
      if (pub.asymmetricKeyType === 'rsa' && (pub.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) {
        const changed = await ensureOwnership(keyPath, 0, gid, 0o640);
        return { privateKey: keyPath, publicKeyPem: pub.export({ type: 'spki', format: 'pem' }).toString(), changed };
      }
    } catch {
      // Not a key we can use: make a new one below.
    }
  }
  const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  await fs.mkdir(path.dirname(keyPath), { recursive: true, mode: 0o755 });
  await writeAtomic(keyPath, privateKey, { mode: 0o640, uid: 0, gid });
  return { privateKey: keyPath, publicKeyPem: publicKey, changed: true };
}

/** The public half of a DKIM key file, as PEM; undefined when the file does not exist. */
export async function dkimPublicKey(keyPath: string): Promise<string | undefined> {
  const text = await readIfExists(keyPath);
  if (text === undefined) return undefined;
  return createPublicKey(text).export({ type: 'spki', format: 'pem' }).toString();
}
