import { promises as fs } from 'node:fs';
import { createPublicKey, generateKeyPair } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { requireGroupId } from './accounts.js';
import { ensureOwnership, readIfExists, writeAtomic } from './files.js';

/** The lab's DKIM signing keys, made and read with node:crypto. */

export interface DkimKey {
  privateKey: string;
  publicKeyPem: string;
  changed: boolean;
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
