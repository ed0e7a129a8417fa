/**
 * The class report, behind both spellings: `labctl report --class DIR` (the HTML page, and
 * Markdown with --out) and `labctl class report DIR` (Markdown, and HTML with --html). Reads the
 * fetched verify reports and the inventory; the renderings are pure (src/class/report*.ts).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { parseVerifyReport, renderClassReport, type StudentChecks } from './report.js';
import { renderClassHtml } from './report-html.js';
import { usageError } from '../errors.js';
import { TEMPLATE_DIR } from '../report/html.js';
import { writeAtomic } from '../system/files.js';

/** Student host name -> domain, from an inventory labctl class inventory wrote. */
async function inventoryDomains(file: string): Promise<Map<string, string>> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw usageError(`--inventory ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  const hosts = (parse(text) as { all?: { children?: { labctl_students?: { hosts?: Record<string, { labctl_domain?: unknown }> } } } })?.all?.children?.labctl_students?.hosts;
  if (!hosts || typeof hosts !== 'object') throw usageError(`--inventory ${file}: no all.children.labctl_students.hosts (write it with labctl class inventory)`);
  return new Map(Object.entries(hosts).flatMap(([name, vars]) => (typeof vars?.labctl_domain === 'string' ? [[name, vars.labctl_domain] as [string, string]] : [])));
}

/** Every DIR/STUDENT.json, parsed; the domains from the inventory when one is given. */
export async function readClassReports(dir: string, inventory?: string): Promise<StudentChecks[]> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    throw usageError(`${dir}: ${err.code === 'ENOENT' ? 'no such directory' : err.message}`, 'give the directory the playbook fetched the reports into (build/class/reports)');
  });
  const files = names.filter((n) => n.endsWith('.json')).sort();
  if (!files.length) throw usageError(`${dir}: no .json reports`, 'ansible/site.yml fetches one per student machine, named after it (st14.json)');
  const students = await Promise.all(
    files.map(async (n) => ({ ...parseVerifyReport(n.replace(/\.json$/, ''), path.join(dir, n), await readFile(path.join(dir, n), 'utf8')), file: path.join(dir, n) })),
  );
  if (inventory) {
    const domains = await inventoryDomains(inventory);
    for (const s of students) s.domain = domains.get(s.student);
  }
  return students;
}

/** The HTML page, its links to the report files relative to where the page is written. */
export async function classReportHtml(students: StudentChecks[], dir: string, htmlFile: string): Promise<string> {
  const css = (await Promise.all(['report.css', 'class.css'].map((f) => readFile(path.join(TEMPLATE_DIR, f), 'utf8')))).join('\n');
  const from = path.dirname(path.resolve(htmlFile));
  const linked = students.map((s) => ({ ...s, file: s.file ? path.relative(from, path.resolve(s.file)) || path.basename(s.file) : undefined }));
  return renderClassHtml(linked, { css, subtitle: `From the labctl verify --json reports in ${dir}, one per student machine.` });
}

export interface ClassReportOutputs {
  dir: string;
  inventory?: string;
  /** Markdown to this file; "-" prints it. */
  markdown?: string;
  html?: string;
}

/** Writes what was asked for; returns what it wrote, for the command to say. */
export async function writeClassReport(o: ClassReportOutputs): Promise<{ students: StudentChecks[]; written: string[] }> {
  const students = await readClassReports(o.dir, o.inventory);
  const written: string[] = [];
  if (o.html) {
    await writeAtomic(o.html, await classReportHtml(students, o.dir, o.html));
    written.push(o.html);
  }
  if (o.markdown === '-') process.stdout.write(renderClassReport(students));
  else if (o.markdown) {
    await writeAtomic(o.markdown, renderClassReport(students));
    written.push(o.markdown);
  }
  return { students, written };
}
