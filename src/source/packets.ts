/**
 * Just enough of OpenPGP's wire format (RFC 4880) to read a detached v4 signature and split a
 * keyring into its keys without loading OpenPGP.js: ASCII armor (6.2), packet framing (4.2), v4
 * fingerprints (12.2), and the fields of a v4 signature packet (5.2.3). Every reader here throws
 * on anything it does not expect; its callers then hand the input to OpenPGP.js, which decides
 * and words the refusal.
 */
import { createHash } from 'node:crypto';

export interface Packet {
  tag: number;
  /** Offsets into the buffer: the header's first byte, the body's first byte, the end. */
  start: number;
  bodyStart: number;
  end: number;
}

export function* packets(buf: Uint8Array): Generator<Packet> {
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

/** A v4 key's fingerprint: SHA-1 over 0x99, the body's two-byte length and the key packet's body. */
export function v4Fingerprint(body: Uint8Array): string {
  if (body[0] !== 4) throw new Error(`key version ${body[0]}`);
  const head = Buffer.from([0x99, body.length >> 8, body.length & 0xff]);
  return createHash('sha1').update(head).update(body).digest('hex').toUpperCase();
}

/** RFC 4880 6.1's CRC-24, a byte at a time from a table. */
const CRC24_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n << 16;
    for (let i = 0; i < 8; i++) c = c & 0x800000 ? ((c << 1) ^ 0x1864cfb) & 0xffffff : (c << 1) & 0xffffff;
    t[n] = c;
  }
  return t;
})();

function crc24(data: Uint8Array): number {
  let crc = 0xb704ce;
  for (const byte of data) crc = ((crc << 8) & 0xffffff) ^ CRC24_TABLE[((crc >> 16) ^ byte) & 0xff];
  return crc;
}

/**
 * The binary contents of each armored block of this kind (`PGP SIGNATURE`, `PGP PUBLIC KEY
 * BLOCK`) in the text. Armor headers are skipped; the checksum, when present, must match.
 */
export function dearmor(text: string, kind: string): Uint8Array[] {
  const begin = `-----BEGIN ${kind}-----`;
  const end = `-----END ${kind}-----`;
  const out: Uint8Array[] = [];
  let at = text.indexOf(begin);
  while (at >= 0) {
    const stop = text.indexOf(end, at);
    if (stop < 0) throw new Error('armor without its end line');
    const lines = text.slice(at + begin.length, stop).split(/\r?\n/).map((l) => l.trim());
    // Headers ("Comment: ...") run up to the first empty line after the BEGIN line.
    let i = 1;
    if (lines.slice(1).some((l) => l === '') && /^[\w-]+: /.test(lines[1] ?? '')) {
      while (i < lines.length && lines[i] !== '') i++;
    }
    const body = lines.slice(i).filter((l) => l !== '');
    let checksum: string | undefined;
    if (body.length && body[body.length - 1].startsWith('=')) checksum = body.pop()!.slice(1);
    const b64 = body.join('');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new Error('armor is not base64');
    const data = new Uint8Array(Buffer.from(b64, 'base64'));
    if (checksum !== undefined) {
      const want = Buffer.from(checksum, 'base64');
      if (want.length !== 3 || want.readUIntBE(0, 3) !== crc24(data)) throw new Error('armor checksum mismatch');
    }
    out.push(data);
    at = text.indexOf(begin, stop);
  }
  return out;
}

export interface Subpacket {
  type: number;
  critical: boolean;
  body: Uint8Array;
}

/** A v4 signature packet's fields (RFC 4880 5.2.3). */
export interface V4Signature {
  type: number;
  publicKeyAlgorithm: number;
  hashAlgorithm: number;
  /** Version through the hashed subpackets: what the signature's hash covers after the data. */
  hashedPart: Uint8Array;
  hashed: Subpacket[];
  unhashed: Subpacket[];
  /** The first two bytes of the hash, as the signer wrote them. */
  left16: Uint8Array;
  /** The algorithm-specific MPIs, their bytes without the bit counts. */
  mpis: Uint8Array[];
}

function subpackets(buf: Uint8Array): Subpacket[] {
  const out: Subpacket[] = [];
  let i = 0;
  while (i < buf.length) {
    const l0 = buf[i++];
    let len: number;
    if (l0 < 192) len = l0;
    else if (l0 < 255) len = ((l0 - 192) << 8) + buf[i++] + 192;
    else {
      len = Buffer.from(buf.subarray(i, i + 4)).readUInt32BE(0);
      i += 4;
    }
    if (len < 1 || i + len > buf.length) throw new Error('bad subpacket length');
    out.push({ type: buf[i] & 0x7f, critical: (buf[i] & 0x80) !== 0, body: buf.subarray(i + 1, i + len) });
    i += len;
  }
  return out;
}

export function parseV4Signature(body: Uint8Array): V4Signature {
  if (body[0] !== 4) throw new Error(`signature version ${body[0]}`);
  const view = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const hashedLen = view.readUInt16BE(4);
  const hashedEnd = 6 + hashedLen;
  const unhashedLen = view.readUInt16BE(hashedEnd);
  const unhashedEnd = hashedEnd + 2 + unhashedLen;
  if (unhashedEnd + 2 > body.length) throw new Error('truncated signature');
  const mpis: Uint8Array[] = [];
  let i = unhashedEnd + 2;
  while (i < body.length) {
    if (i + 2 > body.length) throw new Error('truncated MPI');
    const bytes = (view.readUInt16BE(i) + 7) >> 3;
    if (i + 2 + bytes > body.length) throw new Error('truncated MPI');
    mpis.push(body.subarray(i + 2, i + 2 + bytes));
    i += 2 + bytes;
  }
  return {
    type: body[1],
    publicKeyAlgorithm: body[2],
    hashAlgorithm: body[3],
    hashedPart: body.subarray(0, hashedEnd),
    hashed: subpackets(body.subarray(6, hashedEnd)),
    unhashed: subpackets(body.subarray(hashedEnd + 2, unhashedEnd)),
    left16: body.subarray(unhashedEnd, unhashedEnd + 2),
    mpis,
  };
}

/** RFC 4880 5.2.3.1 subpacket types this module reads. */
export const SUBPACKET = { created: 2, issuerKeyId: 16, signersUserId: 28, issuerFingerprint: 33 } as const;
