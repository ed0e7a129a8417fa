#!/usr/bin/env node
// The class report (labctl report --class) opened in headless Chromium, as the single report is
// in test/e2e/06-report.test.ts: the grid is visible with one row per student, every mark links to
// evidence that is on the page, every student's report file link leads to a file that exists, the
// summary row has a cell per check, the page loads nothing but itself and runs no script. Saves a
// screenshot of the top of the page.
//   check-report.mjs HTML PNG STUDENT...     (npm run test:class; exit 1 naming what is wrong)
// test/unit/class/report-html.test.ts imports checkClassReport for the fixtures.
import fs from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Headless Chromium as the checks open it. */
export async function launchChromium() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (scripts/apt-packages-tests.txt: scripts/setup.sh --tests)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}

/**
 * Returns the problems found (empty: all good) and what it saw. Opens the page in `browser`, a
 * launchChromium() of the caller's that it leaves open (the unit test checks two pages in one),
 * or in a Chromium of its own, closed when done.
 */
export async function checkClassReport(htmlFile, { students, screenshot, viewport = { width: 1800, height: 1000 }, browser: given }) {
  const url = pathToFileURL(htmlFile).href;
  const problems = [];
  const browser = given ?? (await launchChromium());
  let page;
  try {
    page = await browser.newPage({ viewport });
    const requests = [];
    const dialogs = [];
    const errors = [];
    page.on('request', (req) => requests.push(req.url()));
    page.on('dialog', (d) => (dialogs.push(d.message()), d.dismiss()));
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url, { waitUntil: 'load' });

    if (screenshot) await page.screenshot({ path: screenshot });

    const grid = page.locator('table#class-grid');
    if (!(await grid.isVisible())) problems.push('the grid (table#class-grid) is not visible');
    const rowNames = (await page.locator('table#class-grid tbody th.student').allInnerTexts()).map((t) => t.trim());
    if (JSON.stringify(rowNames) !== JSON.stringify(students)) problems.push(`grid rows ${JSON.stringify(rowNames)}, expected ${JSON.stringify(students)}`);
    const checks = await page.locator('table#class-grid thead th.check').count();
    if (checks < 1) problems.push('no check columns');
    const summary = await page.locator('tr#summary-row td.sum').allInnerTexts();
    if (summary.length !== checks) problems.push(`the summary row has ${summary.length} cells for ${checks} checks`);
    if (summary.some((t) => !/^\d+\/\d+$/.test(t.trim()))) problems.push(`summary cells not "passed/ran": ${JSON.stringify(summary.slice(0, 5))}`);
    const summaryRows = await page.locator('table#check-summary tbody tr').count();
    if (summaryRows !== checks) problems.push(`the check summary table has ${summaryRows} rows for ${checks} checks`);

    // Every mark links to an element on the page, which holds that student's evidence for it.
    const links = await page.$$eval('table#class-grid td.cell a', (as) => as.map((a) => ({ href: a.getAttribute('href'), mark: a.textContent })));
    if (links.length === 0) problems.push('no marks in the grid');
    for (const l of links) if (!['✓', '✖', '⚠', '–'].includes(l.mark ?? '')) problems.push(`a mark ${JSON.stringify(l.mark)}`);
    const missing = await page.$$eval('table#class-grid td.cell a', (as) => as.map((a) => a.getAttribute('href') ?? '').filter((h) => !h.startsWith('#') || !document.getElementById(h.slice(1))?.classList.contains('item')));
    if (missing.length) problems.push(`${missing.length} marks link to no evidence on the page: ${missing.slice(0, 3).join(', ')}`);
    // Following one: the evidence comes into view.
    if (links.length) {
      const first = page.locator('table#class-grid td.cell a').first();
      const target = (await first.getAttribute('href')).slice(1);
      await first.click();
      const inView = await page.locator(`[id="${target}"]`).evaluate((el) => {
        const r = el.getBoundingClientRect();
        return r.top >= -1 && r.top < window.innerHeight && location.hash === `#${el.id}`;
      });
      if (!inView) problems.push(`following the first mark does not bring #${target} into view`);
    }
    // Each student's fetched report file exists where the page says.
    const files = await page.$$eval('a.report-file', (as) => as.map((a) => a.href));
    if (files.length !== students.length) problems.push(`${files.length} report file links for ${students.length} students`);
    for (const f of files) {
      if (!f.startsWith('file://') || !fs.existsSync(fileURLToPath(f))) problems.push(`the report file link ${f} leads nowhere`);
    }

    if (requests.some((u) => u !== url)) problems.push(`the page loaded more than itself: ${requests.filter((u) => u !== url).join(', ')}`);
    if (dialogs.length) problems.push(`the page opened dialogs: ${dialogs.join(', ')}`);
    if (errors.length) problems.push(`script errors: ${errors.join(', ')}`);
    const scripts = await page.locator('script').count();
    if (scripts) problems.push(`${scripts} <script> elements on the page`);

    return { problems, checks, marks: links.length, rowNames };
  } finally {
    await page?.close();
    if (!given) await browser.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  const [html, png, ...students] = process.argv.slice(2);
  if (!html || !png || !students.length) {
    console.error('usage: check-report.mjs HTML PNG STUDENT...');
    process.exit(2);
  }
  const r = await checkClassReport(html, { students, screenshot: png });
  for (const p of r.problems) console.error(`class report: ${p}`);
  console.log(`class report in Chromium: ${r.rowNames.length} students, ${r.checks} checks, ${r.marks} marks each linked to its evidence${r.problems.length ? `; ${r.problems.length} problems` : '; all good'}; screenshot ${png}`);
  process.exit(r.problems.length ? 1 : 0);
}
