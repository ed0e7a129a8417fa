import { logLines } from '../../logs/paths.js';
import type { CheckDef } from '../types.js';

/**
 * The panic log: Exim writes there only when something is badly wrong (a configuration it cannot
 * read, a log it cannot open, a crash). Lines in it fail the check, the first one named; the
 * file is Exim's to keep, so clearing it once the cause is fixed is the student's step.
 */
export const paniclogEmpty: CheckDef = {
  id: 'paniclog-empty',
  title: 'the panic log is empty',
  async run({ target, evidence, facts }) {
    const file = await facts.logPath('panic');
    const text = await target.view.readFile(file, { tailBytes: 1 << 20 });
    const lines = logLines(text);
    evidence.push({ kind: 'log', label: `panic log ${file}`, text: text === undefined ? '(no such file: Exim has never panicked here)' : lines.length ? lines.slice(0, 40).join('\n') : '(empty)' });
    if (!lines.length) return { status: 'pass', summary: text === undefined ? `no panic log (${file})` : `${file} is empty` };
    return {
      status: 'fail',
      summary: `${file} has ${lines.length} line(s); the first: ${lines[0]} (fix the cause, then empty the file: labctl logs --panic shows them all)`,
    };
  },
};
