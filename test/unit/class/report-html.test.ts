/**
 * The class report's HTML page (labctl report --class): the golden page for the fixture reports,
 * hostile strings in every field a student's machine writes, and both pages opened in headless
 * Chromium by scripts/class/check-report.mjs (as npm run test:class does with the real reports).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { parseVerifyReport, type StudentChecks } from '../../../src/class/report.js';
import { escapeHtml, fileHref, renderClassHtml } from '../../../src/class/report-html.js';
import { labctlHere, repoRoot } from '../../helpers/cli.js';
// @ts-expect-error: a plain .mjs script without types
import { checkClassReport, launchChromium } from '../../../scripts/class/check-report.mjs';

const fixtures = path.join(repoRoot, 'fixtures/class');
const load = async (student: string) => ({
  ...parseVerifyReport(student, `${student}.json`, await readFile(path.join(fixtures, 'reports', `${student}.json`), 'utf8')),
  file: `${student}.json`,
});

const HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">\'"&amp;';

function hostileStudent(): StudentChecks {
  return {
    student: `st9${HOSTILE}`,
    domain: `evil.example${HOSTILE}`,
    // A file name holds no "/".
    file: `st9${HOSTILE.replaceAll('/', '')}.json`,
    checks: [
      {
        id: `x"><script>window.pwned=3</script>`,
        title: `</style></title>${HOSTILE}`,
        status: 'fail',
        summary: `550 ${HOSTILE}`,
        evidence: [
          { kind: `text" onmouseover="window.pwned=4`, label: `label ${HOSTILE}`, text: `</pre>${HOSTILE}` },
          { kind: 'command', label: 'cmd', command: `echo '${HOSTILE}'`, exitCode: 1, text: `-->${HOSTILE}` },
          { kind: 'data', label: 'data', data: { k: HOSTILE } },
        ],
      },
      { id: 'daemon-listening', title: 'Exim listens on port 25', status: 'pass', summary: 'ok', evidence: [] },
    ],
  };
}

describe('class report, HTML', () => {
  const dirs: string[] = [];
  const scratch = async () => {
    const d = await mkdtemp(path.join(os.tmpdir(), 'labctl-class-html-'));
    dirs.push(d);
    return d;
  };
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('renders the fixture reports as the golden page', async () => {
    const [st14, st18] = [await load('st14'), await load('st18')];
    const html = renderClassHtml([{ ...st18, domain: 'st18.sne24.ru' }, { ...st14, domain: 'st14.sne24.ru' }], { css: '/* css */', subtitle: 'fixture' });
    const golden = path.join(fixtures, 'report.html');
    const want = await readFile(golden, 'utf8');
    // LABCTL_UPDATE_GOLDEN rewrites a golden page that differs, and fails: never a green run that
    // compared the page with itself. Review the change (git diff), then run again without it.
    if (process.env.LABCTL_UPDATE_GOLDEN === '1' && html !== want) {
      await writeFile(golden, html);
      expect.fail('fixtures/class/report.html rewritten (LABCTL_UPDATE_GOLDEN): review it with git diff, then run the tests again without it');
    }
    expect(html).toBe(want);
  });

  it('the grid: a mark per cell linking to evidence on the page, the summary row per check', async () => {
    const [st14, st18] = [await load('st14'), await load('st18')];
    const html = renderClassHtml([st14, st18], { css: '' });
    // st18's 5a-backup-relay is a fail: the cell links to its evidence, which is on the page.
    expect(html).toContain('<td class="cell cell-fail"><a href="#s2-c4" title="st18 5a-backup-relay: fail — RCPT TO:&lt;user@st14.sne24.ru&gt; | refused: 550 relay not permitted">✖</a></td>');
    expect(html).toContain('<div class="item status-fail" id="s2-c4">');
    expect(html).toContain('<tr class="summary" id="summary-row"><th scope="row">passed</th><td></td><td class="sum">2/2</td><td class="sum">2/2</td><td class="sum">1/2</td><td class="sum">1/2</td><td class="sum">1/2</td><td class="sum">2/2</td>');
    expect(html).toContain('<a class="report-file" href="./st18.json">st18.json</a>');
  });

  it('escapes every string from a report; anchors come from positions', () => {
    const html = renderClassHtml([hostileStudent()], { css: '' });
    expect(html).not.toMatch(/<script|<img|<\/style><\/title>| onerror="| onmouseover="/i);
    expect(html).toContain('&lt;script&gt;window.pwned=1&lt;/script&gt;&lt;img src=x onerror=&quot;window.pwned=2&quot;&gt;&#39;&quot;&amp;amp;');
    expect(html).toContain('id="s1-c1"');
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
    // A file name cannot become a scheme or leave its directory.
    expect(fileHref('javascript:alert(1).json')).toBe('./javascript%3Aalert(1).json');
    expect(fileHref('../reports/st14.json')).toBe('../reports/st14.json');
    expect(fileHref('/srv/class/st 14.json')).toBe('file:///srv/class/st%2014.json');
  });

  it('opens in headless Chromium: the fixture page and the hostile page, no script runs', async () => {
    const dir = await scratch();
    const [st14, st18] = [await load('st14'), await load('st18')];
    for (const s of [st14, st18]) await writeFile(path.join(dir, s.file), await readFile(path.join(fixtures, 'reports', s.file), 'utf8'));
    const css = (await Promise.all(['report.css', 'class.css'].map((f) => readFile(path.join(repoRoot, 'templates/report', f), 'utf8')))).join('\n');
    await writeFile(path.join(dir, 'class-report.html'), renderClassHtml([st14, st18], { css }));
    // One Chromium for both pages.
    const browser = await launchChromium();
    onTestFinished(() => browser.close());
    const good = await checkClassReport(path.join(dir, 'class-report.html'), { students: ['st14', 'st18'], screenshot: path.join(dir, 'class.png'), browser });
    expect(good.problems).toEqual([]);
    expect(good.marks).toBe(12);
    expect(existsSync(path.join(dir, 'class.png'))).toBe(true);

    const evil = hostileStudent();
    await writeFile(path.join(dir, evil.file!), '{}');
    await writeFile(path.join(dir, 'evil.html'), renderClassHtml([evil], { css }));
    const bad = await checkClassReport(path.join(dir, 'evil.html'), { students: [evil.student], browser });
    // No dialog, no script element, no error, nothing loaded: checkClassReport says so otherwise.
    expect(bad.problems).toEqual([]);
    expect(bad.rowNames).toEqual([evil.student]);
  }, 60_000);

  it('labctl report --class DIR writes the page beside the reports; labctl class report --html the same page', async () => {
    const dir = await scratch();
    for (const f of ['st14.json', 'st18.json']) await writeFile(path.join(dir, f), await readFile(path.join(fixtures, 'reports', f), 'utf8'));
    const r = await labctlHere(['report', '--class', dir, '--inventory', path.join(fixtures, 'inventory.yml')]);
    expect(r.exitCode, r.all).toBe(0);
    const page = path.join(dir, 'class-report.html');
    expect(r.stdout).toBe(`wrote ${page}\n2 students: 9 pass, 1 fail, 1 warn, 1 skipped`);
    const html = await readFile(page, 'utf8');
    expect(html).toContain('href="./st14.json"');
    expect(html).toContain('<td class="domain">st18.sne24.ru</td>');

    const other = path.join(await scratch(), 'class.html');
    const c = await labctlHere(['class', 'report', dir, '--inventory', path.join(fixtures, 'inventory.yml'), '--html', other, '--out', path.join(path.dirname(other), 'class.md')]);
    expect(c.exitCode, c.all).toBe(0);
    // One implementation: the same page but for the links, which are relative to where it is.
    expect((await readFile(other, 'utf8')).replaceAll(`href="${path.relative(path.dirname(other), dir)}/`, 'href="./')).toBe(html);
    expect(await readFile(path.join(path.dirname(other), 'class.md'), 'utf8')).toBe(await readFile(path.join(fixtures, 'report.md'), 'utf8'));

    const wrong = await labctlHere(['report', '--inventory', 'x.yml']);
    expect(wrong.exitCode).toBe(2);
    expect(wrong.stderr).toContain('--inventory goes with --class DIR');
  }, 60_000);
});
