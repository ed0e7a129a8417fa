import { expectedRecords, isNoAnswer, lookup, resolver, showRecords } from '../expected.js';
import type { CheckDef } from '../types.js';

/**
 * Task 4a: the domain's MX records and their order, as published, beside what `labctl dns`
 * says should be there. With no DNS server for the domain (the usual single machine: nobody
 * serves st14.sne24.ru) the check warns and says so; with --dns-server a missing answer fails.
 */
export const dnsMx: CheckDef = {
  id: '4a-dns-mx',
  title: 'MX records for the domain, in order, match labctl dns',
  async run({ target, evidence, facts }) {
    const expected = (await expectedRecords(facts)).filter((r) => r.type === 'MX' && r.name === target.domain).sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0));
    const dns = await resolver(facts);
    evidence.push({ kind: 'text', label: 'expected (labctl dns)', text: target.model ? showRecords(expected) : '(no labctl model stored: run labctl configure)' });
    const got = await lookup(() => dns.resolveMx(target.domain));
    if (!got.ok) {
      evidence.push({ kind: 'text', label: `published (${dns.describe})`, text: `no answer: ${got.code}` });
      if (isNoAnswer(got) && !dns.explicit) {
        return { status: 'warn', summary: `no MX for ${target.domain} from the ${dns.describe} (${got.code}): nothing serves this domain here; give --dns-server ADDRESS or use verify --lab` };
      }
      return { status: 'fail', summary: `no MX for ${target.domain} from ${dns.describe}: ${got.code}` };
    }
    const published = [...got.value].sort((a, b) => a.priority - b.priority);
    evidence.push({ kind: 'text', label: `published (${dns.describe})`, text: published.map((m) => `${target.domain} MX ${m.priority} ${m.exchange}`).join('\n') });
    const order = published.map((m) => m.exchange.toLowerCase().replace(/\.$/, ''));
    if (!target.model) return { status: 'warn', summary: `published: ${order.join(', ')}; nothing to compare with (no labctl model)` };
    const want = expected.map((r) => r.value.toLowerCase());
    const samePriorities = expected.every((r) => published.some((m) => m.exchange.toLowerCase().replace(/\.$/, '') === r.value.toLowerCase() && m.priority === r.priority));
    if (order.join(' ') !== want.join(' ') || !samePriorities) {
      return { status: 'fail', summary: `published ${published.map((m) => `${m.priority} ${m.exchange}`).join(', ')}; labctl dns says ${expected.map((r) => `${r.priority} ${r.value}`).join(', ')}` };
    }
    return { status: 'pass', summary: `${published.map((m) => `${m.priority} ${m.exchange}`).join(', ')} (as labctl dns says, from ${dns.describe})` };
  },
};
