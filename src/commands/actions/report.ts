import path from 'node:path';
import type { Command } from 'commander';
import { usageError } from '../../errors.js';
import { paths } from '../../paths.js';
import { answersTemplate, parseAnswers, type Answers } from '../../report/answers-file.js';
import { promises as fs } from 'node:fs';
import { locked } from '../locked.js';

export interface ReportFlags {
  out: string;
  html: string | false;
  host?: string;
  history?: boolean;
  class?: string;
  inventory?: string;
  answers?: string;
  answersTemplate?: boolean;
}

/** --class DIR: the HTML page (default DIR/class-report.html), Markdown only with --out. */
async function classReport(flags: ReportFlags, command: Command): Promise<void> {
  const dir = flags.class!;
  if (flags.host !== undefined || flags.history) throw usageError('--host and --history are for the evidence report, not --class');
  const given = (name: string) => command.getOptionValueSource(name) !== 'default';
  const html = flags.html === false ? undefined : given('html') ? flags.html : path.join(dir, 'class-report.html');
  const markdown = given('out') ? flags.out : undefined;
  if (!html && !markdown) throw usageError('--class with --no-html writes nothing', 'add --out FILE for the Markdown table');
  const { writeClassReport } = await import('../../class/write.js');
  const { students, written } = await writeClassReport({ dir, inventory: flags.inventory, html, markdown });
  const log = markdown === '-' ? console.error : console.log;
  for (const f of written) log(`wrote ${f}`);
  const count = (st: string) => students.reduce((n, s) => n + s.checks.filter((c) => c.status === st).length, 0);
  log(`${students.length} students: ${count('pass')} pass, ${count('fail')} fail, ${count('warn')} warn, ${count('skip')} skipped`);
}

/** `labctl report`: the lab report from the evidence store, or the class report (--class DIR). */
export async function reportAction(flags: ReportFlags, command: Command) {
  if (flags.answersTemplate) return void process.stdout.write(answersTemplate());
  // The class report reads only the files it is given: no lock, no evidence store.
  if (flags.class !== undefined && flags.answers !== undefined) throw usageError('--answers is for the evidence report, not --class');
  if (flags.class !== undefined) return classReport(flags, command);
  if (flags.inventory !== undefined) throw usageError('--inventory goes with --class DIR');
  return evidenceReport(flags, command);
}

/** The flags, checked before the lock is asked for (a bad one exits 2). */
async function checkFlags(flags: ReportFlags, _command: Command): Promise<{ flags: ReportFlags; answers?: Answers }> {
  if (flags.host !== undefined && !/^[a-z][a-z0-9-]{0,30}$/.test(flags.host)) throw usageError(`--host "${flags.host}" is not a lab host name`, 'use a name such as st14 or st18');
  if (!flags.out) throw usageError('--out needs a file name', 'use --out report.md, or --out - for standard output');
  return { flags, answers: flags.answers === undefined ? undefined : await readAnswers(flags.answers) };
}

/** Read and checked before the lock and before anything is written: a bad file exits 2, naming what is wrong. */
async function readAnswers(file: string): Promise<Answers> {
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw usageError(`--answers ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, 'labctl report --answers-template > answers.md writes an empty one');
  });
  return parseAnswers(text, file);
}

const evidenceReport = locked('shared', checkFlags, async ({ flags, answers }) => {
  // The report's code (templates, evidence, pictures) is imported here, after the flags and the lock.
  const { writeReport } = await import('../../report/write.js');
  const { report, markdown, written } = await writeReport({
    answers,
    out: flags.out,
    html: flags.html || undefined,
    host: flags.host,
    history: !!flags.history,
  });
  if (flags.out === '-') process.stdout.write(markdown);
  const c = report.counts;
  const log = flags.out === '-' ? console.error : console.log;
  for (const f of written) log(`wrote ${f}`);
  log(`${report.recordCount} evidence records: ${c.pass} pass, ${c.fail} fail, ${c.warn} warn, ${c.skip} skipped, ${c.missing} missing`);
  if (report.recordCount === 0) log(`no evidence in ${paths.evidenceDir}: run labctl install, labctl verify and the lab drills first`);
  for (const m of report.missing) log(`  missing ${m.key}: ${m.why ?? `run ${m.command}`}`);
});
