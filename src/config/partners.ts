import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { backupMxHosts, type HostModel } from './model.js';

/**
 * The partner addresses `labctl configure` records in the model (a real pair: nobody writes
 * them in a lab file). The ETRN ACL lets only the primary of a backed-up domain ask for its
 * held mail, so it needs that primary's address: given with --backup-for, else resolved here.
 * The backup MX hosts' addresses make mail they pass on exempt from SPF and DMARC refusals.
 */

/** A name to its addresses; [] when it has none. */
export type ResolveHost = (name: string) => Promise<string[]>;

const LOOKUP_TIMEOUT_MS = 5000;

/** getaddrinfo (so /etc/hosts counts, as it does for Exim), with a time limit. */
export const systemResolveHost: ResolveHost = async (name) => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${LOOKUP_TIMEOUT_MS / 1000} s`)), LOOKUP_TIMEOUT_MS);
  });
  try {
    const found = await Promise.race([dns.lookup(name, { all: true }), timeout]);
    return [...new Set(found.map((a) => a.address))];
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
    throw err;
  } finally {
    clearTimeout(timer);
  }
};

const usable = (a: string) => isIP(a) !== 0 && !a.startsWith('127.') && a !== '::1';

export interface PartnerAddresses {
  model: HostModel;
  /** One line per name that gave no address, saying what that costs and how to give it. */
  notes: string[];
}

/**
 * Fills in what the flags left out: each --backup-for partner's address (its mail host's first
 * address) and the addresses of the backup MX hosts. Given addresses are kept; a name that does
 * not resolve is a note, not an error (DNS may be published after configure).
 */
export async function resolvePartnerAddresses(model: HostModel, resolve: ResolveHost = systemResolveHost): Promise<PartnerAddresses> {
  const notes: string[] = [];
  const lookup = async (name: string) => {
    try {
      return (await resolve(name)).filter(usable);
    } catch (err) {
      notes.push(`${name}: ${(err as Error).message}`);
      return undefined;
    }
  };
  const backupFor = [];
  for (const p of model.backupFor) {
    if (p.address) {
      backupFor.push(p);
      continue;
    }
    const found = await lookup(p.mailHost);
    if (found?.length) backupFor.push({ ...p, address: found[0] });
    else {
      backupFor.push(p);
      notes.push(`${p.mailHost} has no address here: ETRN #${p.domain} is refused to everyone until you give it (--backup-for ${p.domain},${p.mailHost},ADDRESS)`);
    }
  }
  const addresses = new Set(model.backupMxAddresses ?? []);
  for (const host of backupMxHosts(model)) {
    const found = await lookup(host);
    if (found?.length) for (const a of found) addresses.add(a);
    else notes.push(`${host} has no address here yet (none recorded): Exim looks the name up when mail from a backup MX arrives, so publish its A record`);
  }
  const out: HostModel = { ...model, backupFor };
  if (addresses.size) out.backupMxAddresses = [...addresses];
  else delete out.backupMxAddresses;
  return { model: out, notes };
}
