import { isNoAnswer, lookup, resolver, type Lookup } from '../expected.js';
import type { LabResolver } from '../resolver.js';
import type { CheckContext } from '../types.js';

/**
 * One TXT query for the checks beyond the write-up, with its question and answer kept as evidence, and the
 * one distinction every DNS check makes: "nothing serves this domain here" (no answer from the
 * system resolver: warn) versus an answer, or a server the user named (judge it).
 */
export interface PublishedTxt {
  dns: LabResolver;
  got: Lookup<string[][]>;
  /** The TXT records at the name that start with the wanted tag (e.g. v=DMARC1), each joined. */
  records: string[];
  /** No answer from the system resolver: the lone-machine case. */
  offline: boolean;
}

export async function publishedTxt(ctx: CheckContext, name: string, kind: RegExp): Promise<PublishedTxt> {
  const dns = await resolver(ctx.facts);
  const got = await lookup(() => dns.resolveTxt(name));
  const all = got.ok ? got.value.map((parts) => parts.join('')) : [];
  const records = all.filter((t) => kind.test(t));
  ctx.evidence.push({
    kind: 'text',
    label: `query: ${name} TXT (${dns.describe})`,
    text: got.ok ? (all.length ? all.map((t) => JSON.stringify(t)).join('\n') : '(no TXT records)') : `no answer: ${got.code}`,
  });
  return { dns, got, records, offline: !records.length && isNoAnswer(got) && !dns.explicit };
}

/** "no DNS answer for X from the system resolver (ENOTFOUND)" */
export const noAnswer = (p: PublishedTxt, name: string) => `no DNS answer for ${name} from the ${p.dns.describe}${p.got.ok ? '' : ` (${p.got.code})`}`;

export const HINT_DNS = 'give --dns-server or use verify --lab';
