import type { DnsRecord } from './dns.js';
import { normaliseTlsa } from './tlsa.js';

/**
 * `labctl dns --check`: each record `labctl dns` says to publish beside what DNS serves for the
 * same name and type, the way mailcow's DNS table shows it. The lookups are the caller's
 * (node:dns for A, AAAA, MX and TXT; dig for TLSA), so this stays pure and testable.
 */
export type RowStatus = 'ok' | 'missing' | 'different';

export interface CheckRow {
  name: string;
  type: DnsRecord['type'];
  purpose: string;
  expected: string;
  /** What DNS serves of the same kind (same exchange for MX, same v= for TXT), or nothing. */
  served: string[];
  status: RowStatus;
  /** The DNS error code when nothing was served (ENOTFOUND, ENODATA, ETIMEOUT ...). */
  code?: string;
}

/** Served values for one name and type, spelled like `expectedValue`; `code` when there was no answer. */
export interface Served {
  values: string[];
  code?: string;
}

export type ServedLookup = (name: string, type: DnsRecord['type']) => Promise<Served>;

/** One spelling per record: "10 mail.st14.sne24.ru" for MX, the joined text for TXT, "3 1 1 <hex>" for TLSA. */
export function expectedValue(r: DnsRecord): string {
  if (r.type === 'MX') return `${r.priority ?? 0} ${r.value.toLowerCase().replace(/\.$/, '')}`;
  if (r.type === 'TLSA') return normaliseTlsa(r.value);
  return r.value;
}

/** The TXT record's kind: its leading "v=..." tag (SPF, DKIM, DMARC, ...), or the whole text. */
const txtKind = (text: string) => (/^\s*v=([^;\s]+)/i.exec(text)?.[1] ?? text).toLowerCase();

/** Whether a served value is about the same thing as the expected one, so a mismatch is "different", not "missing". */
function sameKind(r: DnsRecord, served: string): boolean {
  if (r.type === 'TXT') return txtKind(served) === txtKind(r.value);
  if (r.type === 'MX') return served.split(' ')[1] === expectedValue(r).split(' ')[1];
  return true;
}

export async function compareServed(records: DnsRecord[], lookup: ServedLookup): Promise<CheckRow[]> {
  const asked = new Map<string, Promise<Served>>();
  const ask = (name: string, type: DnsRecord['type']) => {
    const key = `${name.toLowerCase()} ${type}`;
    let p = asked.get(key);
    if (!p) asked.set(key, (p = lookup(name, type)));
    return p;
  };
  return Promise.all(
    records.map(async (r): Promise<CheckRow> => {
      const got = await ask(r.name, r.type);
      const expected = expectedValue(r);
      const related = got.values.filter((v) => sameKind(r, v));
      const status: RowStatus = related.includes(expected) ? 'ok' : related.length ? 'different' : 'missing';
      const row: CheckRow = { name: r.name, type: r.type, purpose: r.purpose, expected, served: status === 'ok' ? [expected] : related, status };
      if (!got.values.length && got.code) row.code = got.code;
      return row;
    }),
  );
}

const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** A plain-text table: record, expected, served, status; long values are clipped (--json has them whole). */
export function renderCheckTable(rows: CheckRow[], width = 46): string {
  const cells = rows.map((r) => [
    `${r.name} ${r.type}`,
    clip(r.expected, width),
    r.served.length ? r.served.map((s) => clip(s, width)).join(' | ') : `(none${r.code ? `: ${r.code}` : ''})`,
    r.status,
  ]);
  const head = ['record', 'expected', 'served', 'status'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}
