/**
 * End-to-end: `labctl report` from the evidence the earlier e2e files recorded (install, configure,
 * verify, and the lab smoke run with its drills), then the HTML opened in headless Chromium.
 * Reads the real evidence store (/var/lib/labctl/evidence, or $LABCTL_STATE_DIR/evidence) and
 * fails, naming the command to run, when a record it needs is not there.
 * Writes build/artifacts/report.md, report.html, report.png and report.pdf (CI keeps them).
 */
import { promises as fs, existsSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAllEvidence, type EvidenceRecord } from '../../src/evidence/store.js';
import { paths } from '../../src/paths.js';
import { buildReport } from '../../src/report/build.js';
import { timelineFrom } from '../../src/report/timeline.js';
import { allSections } from '../../src/report/model.js';
import { outline, type SectionSpec } from '../../src/report/outline.js';
import { labctl, repoRoot } from '../helpers/cli.js';
import { isRoot, requireRoot } from '../helpers/root.js';

requireRoot();

const CHROMIUM = '/usr/bin/chromium';
const artifacts = path.join(repoRoot, 'build/artifacts');
const mdFile = path.join(artifacts, 'report.md');
const htmlFile = path.join(artifacts, 'report.html');

/** A line of an SMTP transcript where the client asks for STARTTLS (swaks-style markers). */
const STARTTLS_LINE = /^\s*->\s*STARTTLS\s*$/m;

function need<T>(value: T | undefined, what: string, command: string): T {
  if (value === undefined || value === null || value === '') {
    throw new Error(`the evidence store ${paths.evidenceDir} has no ${what}; run \`${command}\` first (CI runs it in the earlier e2e files)`);
  }
  return value;
}

describe.runIf(isRoot)('labctl report (e2e, real evidence)', () => {
  let records: EvidenceRecord[];
  let fingerprint: string;
  let messageId: string;
  let browser: Browser | undefined;

  beforeAll(async () => {
    records = await loadAllEvidence();
    const latest = (area: string, id: string) => records.find((r) => r.area === area && r.id === id && !r.host);
    const sig = need(latest('install', '1c-signature'), 'install/1c-signature record', 'labctl install');
    const sigData = sig.evidence.find((e) => e.kind === 'data')?.data as { primaryFingerprint?: string } | undefined;
    fingerprint = need(sigData?.primaryFingerprint, "signer's fingerprint in install/1c-signature", 'labctl install');
    const drill = need(latest('drill', 'backup-mx'), 'drill/backup-mx record', 'labctl lab drill backup-mx --force');
    messageId = need(timelineFrom(drill)?.messages.find((m) => m.messageId)?.messageId, 'Message-ID in the drill/backup-mx timeline', 'labctl lab drill backup-mx --force');
    need(
      records.find((r) => (r.id === '6-starttls' || (r.area === 'drill' && r.id === 'tls')) && r.evidence.some((e) => e.kind === 'transcript' && STARTTLS_LINE.test(e.text ?? ''))),
      'STARTTLS transcript (verify/6-starttls or drill/tls)',
      'labctl verify --only 6-starttls',
    );
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (it is in scripts/apt-packages-tests.txt: scripts/setup.sh --tests)`);
    await fs.rm(artifacts, { recursive: true, force: true });
    await fs.mkdir(artifacts, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('writes report.md and report.html from the store', async () => {
    const r = await labctl(['report', '--out', mdFile, '--html', htmlFile]);
    console.log(r.all);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toContain(`wrote ${mdFile}`);
    expect(r.stdout).toContain(`wrote ${htmlFile}`);
  }, 60_000);

  it("contains the signer's fingerprint, a drill message's Message-ID and a STARTTLS transcript line", async () => {
    const md = await fs.readFile(mdFile, 'utf8');
    expect(md).toContain(fingerprint);
    expect(md).toContain(messageId);
    expect(md).toMatch(STARTTLS_LINE);
    expect(md).toMatch(/```mermaid\nflowchart TB\n/);
    expect(md).toMatch(/```mermaid\ngantt\n/);
    const html = await fs.readFile(htmlFile, 'utf8');
    expect(html).toContain(fingerprint);
    expect(html).toContain(messageId.replace(/</g, '&lt;').replace(/>/g, '&gt;'));
  });

  it('opens in headless Chromium with every section heading visible and both pictures drawn', async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    });
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const requests: string[] = [];
    page.on('request', (req) => requests.push(req.url()));
    await page.goto(`file://${htmlFile}`, { waitUntil: 'load' });

    // The report as the command built it: every section and subsection is a visible heading.
    const sections = allSections(buildReport(await loadAllEvidence()));
    expect(sections.length).toBeGreaterThan(20);
    for (const s of sections) {
      const heading = page.locator(`[id="${s.id}-h"]`);
      await heading.scrollIntoViewIfNeeded();
      expect(await heading.isVisible(), `heading "${s.title}"`).toBe(true);
      expect((await heading.innerText()).trim()).toBe(s.title);
    }
    expect(await page.locator('.section-heading').count()).toBe(sections.length);
    // And against the write-up's outline itself, which does not depend on the evidence: a section
    // the report builder dropped would be missing from both lists above.
    const titles = (specs: SectionSpec[]): string[] => specs.flatMap((x) => [x.title, ...titles(x.subsections ?? [])]);
    const shown = (await page.locator('.section-heading').allInnerTexts()).map((t) => t.trim());
    expect(titles(outline()).filter((t) => !shown.includes(t))).toEqual([]);

    for (const id of ['topology-svg', 'timeline-svg']) {
      const svg = page.locator(`svg#${id}`);
      await svg.scrollIntoViewIfNeeded();
      const box = await svg.boundingBox();
      expect(box, id).not.toBeNull();
      expect(box!.width, id).toBeGreaterThan(100);
      expect(box!.height, id).toBeGreaterThan(100);
    }

    // Evidence wraps instead of overflowing the page.
    expect(await page.locator('pre.evidence-text').count()).toBeGreaterThan(0);
    const overflowing = await page.$$eval('pre.evidence-text', (pres) => pres.filter((p) => p.scrollWidth > p.clientWidth + 1).length);
    expect(overflowing).toBe(0);

    // Self-contained: the page loaded nothing but itself.
    expect(requests.filter((u) => u !== `file://${htmlFile}` && !u.startsWith('data:'))).toEqual([]);

    await page.screenshot({ path: path.join(artifacts, 'report.png'), fullPage: true });
    expect((await fs.stat(path.join(artifacts, 'report.png'))).size).toBeGreaterThan(10_000);

    // The print stylesheet: a PDF the way a student would print it.
    await page.emulateMedia({ media: 'print' });
    await page.pdf({ path: path.join(artifacts, 'report.pdf'), format: 'A4' });
    expect((await fs.stat(path.join(artifacts, 'report.pdf'))).size).toBeGreaterThan(10_000);
  }, 120_000);
});
