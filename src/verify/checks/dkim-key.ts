import { createHash, createPublicKey } from 'node:crypto';
import { dkimRecordName } from '../../config/dns.js';
import { hostFiles } from '../../config/layout.js';
import { parseTagList } from '../../config/policies.js';
import { dkimSigning } from '../expected.js';
import type { CheckDef } from '../types.js';
import { HINT_DNS, noAnswer, publishedTxt } from './published.js';

/**
 * mailcow's comparison: the p= published at <selector>._domainkey is the public half of the
 * private key Exim signs with (dkim_private_key, the file labctl configure made), compared as
 * SHA-256 digests of the DER SubjectPublicKeyInfo.
 */

const spkiDigest = (der: Buffer) => createHash('sha256').update(der).digest('hex');

/** The p= of a DKIM key record as a DER SubjectPublicKeyInfo (SPKI, or an RSA PKCS#1 key some publish). */
function publishedKey(text: string): { der?: Buffer; error?: string } {
  const tags = parseTagList(text.replace(/\s+/g, ' '));
  if (!tags.ok) return { error: tags.error };
  const p = tags.value.find(([n]) => n === 'p')?.[1]?.replace(/\s+/g, '');
  if (p === undefined) return { error: 'no p= tag' };
  if (p === '') return { error: 'p= is empty: the key is revoked' };
  const raw = Buffer.from(p, 'base64');
  for (const type of ['spki', 'pkcs1'] as const) {
    try {
      return { der: createPublicKey({ key: raw, format: 'der', type }).export({ type: 'spki', format: 'der' }) };
    } catch {
      // try the next encoding
    }
  }
  return { error: 'p= is not a public key' };
}

export const dkimKeyMatch: CheckDef = {
  id: 'dkim-key-match',
  title: 'the published DKIM key is the public half of the key Exim signs with',
  async run(ctx) {
    const { target, facts, evidence } = ctx;
    const signing = await dkimSigning(facts);
    if (!signing) return { status: 'skip', summary: 'DKIM signing is not configured (no smtp transport has dkim_private_key)' };
    if (signing.keyError || !signing.publicKeyPem) return { status: 'fail', summary: `cannot read the DKIM key ${signing.keyPath}: ${signing.keyError ?? '?'}` };
    const mine = spkiDigest(createPublicKey(signing.publicKeyPem).export({ type: 'spki', format: 'der' }));
    const configureFile = (await facts.version()).configurationFile;
    const made = target.model && configureFile ? hostFiles(target.model, configureFile).dkimPrivateKey : undefined;
    evidence.push({
      kind: 'text',
      label: `signing key (transport ${signing.transport})`,
      text: [
        `dkim_private_key = ${signing.keyPath}${made ? (made === signing.keyPath ? ' (the key labctl configure made)' : ` (labctl configure made ${made})`) : ''}`,
        `dkim_domain = ${signing.domain}, dkim_selector = ${signing.selector}`,
        `SHA-256 of its public key (DER SubjectPublicKeyInfo): ${mine}`,
      ].join('\n'),
    });
    const name = dkimRecordName({ dkimSelector: signing.selector, domain: signing.domain });
    const p = await publishedTxt(ctx, name, /(^|;)\s*p=/);
    if (!p.records.length) {
      if (p.offline) return { status: 'warn', summary: `not published here: ${noAnswer(p, name)}; labctl dns publishes the public half of ${signing.keyPath} (SHA-256 ${mine.slice(0, 16)}…); ${HINT_DNS}` };
      return { status: 'fail', summary: `no DKIM key record at ${name} from ${p.dns.describe}${p.got.ok ? '' : ` (${p.got.code})`}` };
    }
    const keys = p.records.map(publishedKey);
    evidence.push({ kind: 'text', label: 'published key(s)', text: keys.map((k) => (k.der ? `SHA-256 ${spkiDigest(k.der)}` : `unreadable: ${k.error}`)).join('\n') });
    if (keys.some((k) => k.der && spkiDigest(k.der) === mine)) {
      return { status: 'pass', summary: `${name} publishes the public half of ${signing.keyPath} (SHA-256 ${mine.slice(0, 16)}…, from ${p.dns.describe})` };
    }
    const why = keys.map((k) => (k.der ? `SHA-256 ${spkiDigest(k.der).slice(0, 16)}…` : k.error)).join('; ');
    return { status: 'fail', summary: `${name} publishes ${why}; Exim signs with ${signing.keyPath} (SHA-256 ${mine.slice(0, 16)}…): receivers' DKIM checks fail` };
  },
};
