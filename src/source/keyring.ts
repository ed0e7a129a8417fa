import { createHash } from 'node:crypto';
import { dearmor, packets, v4Fingerprint } from './packets.js';

/**
 * Reading a keyring with OpenPGP.js parses every key with all its certifications (about 20 ms for
 * the 8-key Exim keyring in a fresh process), though a signature needs one key. This index only
 * walks the packet framing (RFC 4880 4.2) to split the keyring into its keys and compute each v4
 * key's fingerprint (SHA-1 over the key packet, RFC 4880 12.2); OpenPGP.js then parses and checks
 * just the key that issued the signature. Anything unusual (v5/v6 keys, partial lengths, bad
 * framing) returns undefined and the caller parses the whole keyring instead.
 */
export interface IndexedKey {
  /** The transferable key's packets, as OpenPGP.js reads them. */
  bytes: Uint8Array;
  /** Fingerprints of the primary key, then its subkeys, upper-case hex. */
  fingerprints: string[];
  /** SHA-256 of each of its packets (header and body), in order. */
  packetDigests: string[];
}

const TAG = { secretKey: 5, publicKey: 6, secretSubkey: 7, publicSubkey: 14 } as const;

/** Splits binary transferable public keys; throws on anything unusual. */
export function splitKeys(buf: Uint8Array): IndexedKey[] {
  const keys: IndexedKey[] = [];
  let current: { start: number; end: number; fingerprints: string[]; packetDigests: string[] } | undefined;
  const done = () => current && keys.push({ bytes: buf.subarray(current.start, current.end), fingerprints: current.fingerprints, packetDigests: current.packetDigests });
  for (const p of packets(buf)) {
    if (p.tag === TAG.secretKey || p.tag === TAG.secretSubkey) throw new Error('secret key material');
    const digest = createHash('sha256').update(buf.subarray(p.start, p.end)).digest('hex');
    if (p.tag === TAG.publicKey) {
      done();
      current = { start: p.start, end: p.end, fingerprints: [v4Fingerprint(buf.subarray(p.bodyStart, p.end))], packetDigests: [digest] };
      continue;
    }
    if (!current) throw new Error('packets before the first key');
    if (p.tag === TAG.publicSubkey) current.fingerprints.push(v4Fingerprint(buf.subarray(p.bodyStart, p.end)));
    current.packetDigests.push(digest);
    current.end = p.end;
  }
  done();
  return keys;
}

/** The keys of a keyring (one or more armored blocks), or undefined when it needs a full parse. */
export async function indexKeyring(armored: string): Promise<IndexedKey[] | undefined> {
  try {
    const keys = dearmor(armored, 'PGP PUBLIC KEY BLOCK').flatMap(splitKeys);
    return keys.length ? keys : undefined;
  } catch {
    return undefined;
  }
}

/** The indexed keys holding a key (primary or subkey) with this key ID or fingerprint. */
export function keysFor(index: IndexedKey[], issuer: string): IndexedKey[] {
  const id = issuer.toUpperCase();
  return index.filter((k) => k.fingerprints.some((f) => f === id || f.endsWith(id)));
}
