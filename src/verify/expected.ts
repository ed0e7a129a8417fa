import { createPublicKey } from 'node:crypto';
import { dkimPublicKeyBase64, dkimRecordName, dnsRecords, splitTxt, type DnsRecord } from '../config/dns.js';
import type { Facts } from './facts.js';
import { makeResolver, NO_ANSWER, parseResolvConf, type LabResolver } from './resolver.js';

/** What the host's Exim signs with: the first transport carrying a DKIM private key. */
export interface DkimSigning {
  transport: string;
  domain: string;
  selector: string;
  keyPath: string;
  options: Map<string, string>;
  /** The public half, derived from the private key Exim reads. */
  publicKeyPem?: string;
  keyError?: string;
}

const memo = new WeakMap<Facts, Map<string, Promise<unknown>>>();
function once<T>(facts: Facts, key: string, make: () => Promise<T>): Promise<T> {
  let m = memo.get(facts);
  if (!m) memo.set(facts, (m = new Map()));
  let p = m.get(key) as Promise<T> | undefined;
  if (!p) m.set(key, (p = make()));
  return p;
}

export function dkimSigning(facts: Facts): Promise<DkimSigning | undefined> {
  return once(facts, 'dkim', async () => {
    const { transports } = await facts.transports();
    for (const [name, t] of transports) {
      const keyPath = t.get('dkim_private_key');
      if (t.get('driver') !== 'smtp' || !keyPath) continue;
      const s: DkimSigning = {
        transport: name,
        domain: t.get('dkim_domain') || facts.target.domain,
        selector: t.get('dkim_selector') || facts.target.model?.dkimSelector || '',
        keyPath,
        options: t,
      };
      try {
        const pem = keyPath.includes('-----BEGIN') ? keyPath : await facts.target.view.readFile(keyPath);
        if (!pem) throw new Error(`${keyPath} is missing`);
        s.publicKeyPem = createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString();
      } catch (err) {
        s.keyError = (err as Error).message;
      }
      return s;
    }
    return undefined;
  });
}

/** The records `labctl dns` says should be published for this host (empty without a model). */
export function expectedRecords(facts: Facts): Promise<DnsRecord[]> {
  return once(facts, 'expected', async () => {
    const dkim = await dkimSigning(facts);
    const model = facts.target.model;
    if (model) return dnsRecords(model, { dkimPublicKeyPem: dkim?.publicKeyPem });
    if (!dkim?.publicKeyPem) return [];
    const value = `v=DKIM1; k=rsa; p=${dkimPublicKeyBase64(dkim.publicKeyPem)}`;
    const name = dkimRecordName({ dkimSelector: dkim.selector, domain: dkim.domain });
    return [{ name, type: 'TXT', value, strings: splitTxt(value), purpose: 'DKIM public key' }];
  });
}

export function resolver(facts: Facts, timeoutMs = 2500): Promise<LabResolver> {
  return once(facts, 'resolver', async () => {
    const system = facts.target.dnsServer ? [] : parseResolvConf(await facts.target.view.readFile('/etc/resolv.conf'));
    return makeResolver(facts.target.dnsServer, timeoutMs, system);
  });
}

export type Lookup<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

/** A DNS query whose "no answer" is data, not an exception. */
export async function lookup<T>(q: () => Promise<T>): Promise<Lookup<T>> {
  try {
    return { ok: true, value: await q() };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { ok: false, code: e.code ?? 'ERROR', message: e.message };
  }
}

export const isNoAnswer = (l: Lookup<unknown>) => !l.ok && NO_ANSWER.has(l.code);

export const showRecords = (records: DnsRecord[]) =>
  records.map((r) => `${r.name} ${r.type}${r.priority !== undefined ? ` ${r.priority}` : ''} ${r.type === 'TXT' ? JSON.stringify(r.value) : r.value}`).join('\n') || '(none)';
