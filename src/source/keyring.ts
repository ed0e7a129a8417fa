import { createHash } from 'node:crypto';
import * as openpgp from 'openpgp';

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
}

const TAG = { secretKey: 5, publicKey: 6, secretSubkey: 7, publicSubkey: 14 } as const;

function* packets(buf: Uint8Array): Generator<{ tag: number; start: number; bodyStart: number; end: number }> {
  let i = 0;
  while (i < buf.length) {
    const start = i;
    const b = buf[i++];
    if (!(b & 0x80)) throw new Error('not a packet header');
    let tag: number;
    let len: number;
    if (b & 0x40) {
      tag = b & 0x3f;
      const l0 = buf[i++];
      if (l0 < 192) len = l0;
      else if (l0 < 224) len = ((l0 - 192) << 8) + buf[i++] + 192;
      else if (l0 === 255) {
        len = (buf[i] << 24) | (buf[i + 1] << 16) | (buf[i + 2] << 8) | buf[i + 3];
        i += 4;
      } else throw new Error('partial body length');
    } else {
      tag = (b >> 2) & 0x0f;
      const type = b & 3;
      if (type === 3) throw new Error('indeterminate length');
      const n = [1, 2, 4][type];
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + buf[i++];
    }
    if (len < 0 || i + len > buf.length) throw new Error('truncated packet');
    yield { tag, start, bodyStart: i, end: i + len };
    i += len;
  }
}

function v4Fingerprint(body: Uint8Array): string {
  if (body[0] !== 4) throw new Error(`key version ${body[0]}`);
  const head = Buffer.from([0x99, body.length >> 8, body.length & 0xff]);
  return createHash('sha1').update(head).update(body).digest('hex').toUpperCase();
}

/** The keys of a keyring (one or more armored blocks), or undefined when it needs a full parse. */
export async function indexKeyring(armored: string): Promise<IndexedKey[] | undefined> {
  try {
    const blocks = armored.match(/-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/g) ?? [];
    if (!blocks.length) return undefined;
    const keys: IndexedKey[] = [];
    for (const block of blocks) {
      const { data } = await openpgp.unarmor(block);
      const buf = data as Uint8Array;
      let current: { start: number; end: number; fingerprints: string[] } | undefined;
      for (const p of packets(buf)) {
        if (p.tag === TAG.secretKey || p.tag === TAG.secretSubkey) return undefined;
        if (p.tag === TAG.publicKey) {
          if (current) keys.push({ bytes: buf.subarray(current.start, current.end), fingerprints: current.fingerprints });
          current = { start: p.start, end: p.end, fingerprints: [v4Fingerprint(buf.subarray(p.bodyStart, p.end))] };
          continue;
        }
        if (!current) return undefined;
        if (p.tag === TAG.publicSubkey) current.fingerprints.push(v4Fingerprint(buf.subarray(p.bodyStart, p.end)));
        current.end = p.end;
      }
      if (current) keys.push({ bytes: buf.subarray(current.start, current.end), fingerprints: current.fingerprints });
    }
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
