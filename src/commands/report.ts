import type { Command } from 'commander';
import { paths } from '../paths.js';
import { lazy } from './lazy.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write the lab report (Markdown and self-contained HTML) from the evidence labctl recorded')
    .option('--out <file>', 'Markdown report to write ("-" prints it to standard output)', 'report.md')
    .option('--html <file>', 'HTML report to write (self-contained: styles and pictures inline)', 'report.html')
    .option('--no-html', 'write no HTML report')
    .option('--host <name>', 'prefer the evidence about this lab host (st14, st18) where checks ran per host')
    .option('--history', 'also list earlier runs of each step and check')
    .option('--class <dir>', 'the class report instead: the verify reports ansible/site.yml fetched (one STUDENT.json each) as one HTML page, students by checks (default --html DIR/class-report.html)')
    .option('--inventory <file>', "with --class: the class inventory, for each student's domain")
    .option('--answers <file>', "your own answers to the write-up's questions (Markdown, one \"## 6a.\" section per question), each placed beside the evidence; labctl's text stays only as a hint where you gave none")
    .option('--answers-template', 'print the empty answers file (one section per question of the write-up) and exit')
    .addHelpText(
      'after',
      `\nEvidence is read from ${paths.evidenceDir} (set LABCTL_STATE_DIR to read another state directory).\n` +
        'Items with no evidence are listed as missing, each with the command that produces it.',
    )
    .action(lazy(() => import('./actions/report.js'), 'reportAction'));
}
