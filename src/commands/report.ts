import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { paths } from '../paths.js';
import { writeReport } from '../report/write.js';
import { locked } from './locked.js';

interface ReportFlags {
  out: string;
  html: string | false;
  host?: string;
  history?: boolean;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write the lab report (Markdown and self-contained HTML) from the evidence labctl recorded')
    .option('--out <file>', 'Markdown report to write ("-" prints it to standard output)', 'report.md')
    .option('--html <file>', 'HTML report to write (self-contained: styles and pictures inline)', 'report.html')
    .option('--no-html', 'write no HTML report')
    .option('--host <name>', 'prefer the evidence about this lab host (st14, st18) where checks ran per host')
    .option('--history', 'also list earlier runs of each step and check')
    .addHelpText(
      'after',
      `\nEvidence is read from ${paths.evidenceDir} (set LABCTL_STATE_DIR to read another state directory).\n` +
        'Items with no evidence are listed as missing, each with the command that produces it.',
    )
    .action(locked('shared', async (flags: ReportFlags) => {
      if (flags.host !== undefined && !/^[a-z][a-z0-9-]{0,30}$/.test(flags.host)) throw usageError(`--host "${flags.host}" is not a lab host name`, 'use a name such as st14 or st18');
      if (!flags.out) throw usageError('--out needs a file name', 'use --out report.md, or --out - for standard output');
      const { report, markdown, written } = await writeReport({
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
      for (const m of report.missing) log(`  missing ${m.key}: run ${m.command}`);
    }));
}
