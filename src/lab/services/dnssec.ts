import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LabError } from '../../errors.js';
import { waitUntil } from '../../system/procs.js';
import { run } from '../../system/run.js';
import type { LabSpec } from '../topology.js';

/**
 * DNSSEC for the lab (beyond the write-up): BIND signs every forward zone itself (dnssec-policy default,
 * inline signing); the zones of the lab's domains are delegated from one parent zone (sne24.ru
 * for st14.sne24.ru and st18.sne24.ru) that carries their DS records, and the parent's own key is
 * the validating resolver's trust anchor. Where the domains share no parent, each domain's key is
 * an anchor of its own.
 */

/** The parent zone the lab's domains hang off, when they all share one that is not itself a lab domain. */
export function parentZone(spec: Pick<LabSpec, 'hosts'>): string | undefined {
  const parents = new Set(spec.hosts.map((h) => h.domain.split('.').slice(1).join('.')));
  const [parent] = [...parents];
  if (parents.size !== 1 || !parent || !parent.includes('.')) return undefined;
  if (spec.hosts.some((h) => h.domain === parent)) return undefined;
  return parent;
}

/** The delegation of a child zone in its parent: NS, glue, and the DS lines once the child is signed. */
export function delegation(child: string, parent: string, nsAddress: string, ds: string[]): string {
  const label = child.slice(0, -parent.length - 1);
  return [
    `; ${child}: delegated to the lab's name server${ds.length ? ', signed (DS: the hash of its key-signing key)' : ''}`,
    `${label} IN NS ns.${child}.`,
    `ns.${label} IN A ${nsAddress}`,
    ...ds.map((d) => d.replace(/^\S+\s+(IN\s+)?/, `${label} IN `)),
  ].join('\n');
}

/** BIND's key files for the zone's key-signing keys (flags 257: a KSK or, with the default policy, a CSK). */
async function kskFiles(keysDir: string, zone: string): Promise<string[]> {
  const names = await fs.readdir(keysDir).catch(() => [] as string[]);
  const out: string[] = [];
  for (const n of names.filter((f) => f.startsWith(`K${zone}.+`) && f.endsWith('.key'))) {
    const text = await fs.readFile(path.join(keysDir, n), 'utf8').catch(() => '');
    if (/\bDNSKEY\s+257\s/.test(text)) out.push(path.join(keysDir, n));
  }
  return out.sort();
}

/** The DS records (SHA-256) of the zone's key-signing keys, once BIND has made them: "zone. IN DS id 13 2 HEX". */
export async function dsRecords(keysDir: string, zone: string, timeoutMs = 10_000): Promise<string[]> {
  let files: string[] = [];
  const made = await waitUntil(async () => (files = await kskFiles(keysDir, zone)).length > 0, timeoutMs, 100);
  if (!made) throw new LabError(`dns: BIND made no signing key for ${zone} in ${keysDir} within ${timeoutMs / 1000} s`, 'see named.log in the lab DNS directory');
  const out: string[] = [];
  for (const f of files) {
    const r = await run('dnssec-dsfromkey', ['-2', f], { allowFailure: true });
    if (r.exitCode !== 0) throw new LabError(`dns: dnssec-dsfromkey ${f}: ${(r.stderr || r.stdout).trim()}`, 'apt-get install bind9-utils');
    out.push(...r.stdout.split('\n').map((l) => l.trim()).filter(Boolean));
  }
  return out;
}
