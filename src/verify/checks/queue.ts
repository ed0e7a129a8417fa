import { commandEvidence } from '../facts.js';
import type { CheckDef } from '../types.js';

/** The queue: exim -bpc counts it, exim -bp lists it; a frozen message is a failure. */
export const queue: CheckDef = {
  id: 'queue',
  title: 'nothing frozen in the queue; queue size',
  async run({ evidence, facts }) {
    const list = await facts.exim(['-bp']);
    evidence.push(commandEvidence('exim -bp', list));
    if (list.exitCode !== 0) return { status: 'fail', summary: `exim -bp exited ${list.exitCode}: ${(list.stderr || list.stdout).split('\n')[0]}` };
    const messages = list.stdout.split('\n').filter((l) => /^\s*\d+[smhdw]\s+\S+\s+\S+/.test(l));
    const frozen = messages.filter((l) => /\*\*\* frozen \*\*\*/.test(l));
    if (frozen.length) {
      const ids = frozen.map((l) => l.trim().split(/\s+/)[2]);
      const log = await facts.mainlogLines(ids);
      if (log.length) evidence.push({ kind: 'log', label: 'main log for the frozen messages', text: log.slice(-30).join('\n') });
      return { status: 'fail', summary: `${frozen.length} of ${messages.length} queued message(s) frozen: ${ids.join(', ')}` };
    }
    return { status: 'pass', summary: messages.length ? `${messages.length} message(s) queued, none frozen` : 'queue empty' };
  },
};
