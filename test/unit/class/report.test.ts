import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseVerifyReport, renderClassReport } from '../../../src/class/report.js';
import { labctlHere, repoRoot } from '../../helpers/cli.js';

const fixtures = path.join(repoRoot, 'fixtures/class');
const load = async (student: string) => parseVerifyReport(student, `${student}.json`, await readFile(path.join(fixtures, 'reports', `${student}.json`), 'utf8'));

describe('class report', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('one row per student, one column per check, the totals both ways', async () => {
    const [st14, st18] = [await load('st14'), await load('st18')];
    const md = renderClassReport([{ ...st18, domain: 'st18.sne24.ru' }, { ...st14, domain: 'st14.sne24.ru' }]);
    const table = md.split('\n').filter((l) => l.startsWith('| '));
    expect(table[0]).toBe('| student | domain | daemon-listening | 3b-local-delivery | 4a-dns-mx | 5a-backup-relay | 7b-tls-required | dkim-signature | passed | failed | warned | skipped |');
    expect(table[2]).toBe('| st14 | st14.sne24.ru | ✓ | ✓ | ✓ | ✓ | – | ✓ | 5 | 0 | 0 | 1 |');
    expect(table[3]).toBe('| st18 | st18.sne24.ru | ✓ | ✓ | ⚠ | ✖ | ✓ | ✓ | 4 | 1 | 1 | 0 |');
    expect(table[4]).toBe('| **passed** |  | 2/2 | 2/2 | 1/2 | 1/2 | 1/2 | 2/2 | 9 | 1 | 1 | 1 |');
    // a "|" in a summary does not break the table, and an address shows as text, not as an HTML tag
    expect(md).toContain('- st18 ✖ `5a-backup-relay`: RCPT TO:\\<user@st14.sne24.ru\\> \\| refused: 550 relay not permitted');
  });

  it("escapes what the machines sent: a multi-line summary, a student's title or name opens no heading, list or HTML", async () => {
    const st14 = await load('st14');
    const reply = '550-refused\n## Injected\n<img src=x onerror=alert(1)>\n- item';
    const evil = { ...st14, student: 'st14\n# name', domain: 'st14.sne24.ru | x', checks: st14.checks.map((c, i) => (i === 0 ? { ...c, status: 'fail' as const, title: 'title\n# injected title', summary: reply } : c)) };
    const md = renderClassReport([evil]);
    expect(md.split('\n').filter((l) => /^#+ .*(Injected|name|injected title)/.test(l) || l === '- item')).toEqual([]);
    expect(md).not.toMatch(/(?<!\\)<img/);
    expect(md).toContain('550-refused ## Injected \\<img src=x onerror=alert(1)\\> - item');
    expect(md).toContain('- `daemon-listening`: title # injected title');
    // The table keeps its columns: the name's newline and the domain's pipe stay inside their cells.
    const rows = md.split('\n').filter((l) => l.startsWith('| '));
    expect(new Set(rows.map((r) => r.split(/(?<!\\)\|/).length)).size).toBe(1);
  });

  it('labctl class report DIR --inventory prints the golden report', async () => {
    const r = await labctlHere(['class', 'report', path.join(fixtures, 'reports'), '--inventory', path.join(fixtures, 'inventory.yml')]);
    expect(r.exitCode, r.stderr).toBe(0);
    // labctlHere, as execa, drops the last newline of stdout
    expect(r.stdout).toBe((await readFile(path.join(fixtures, 'report.md'), 'utf8')).trimEnd());
  });

  it('refuses what is not a verify report, naming the file, with exit 2', async () => {
    expect(() => parseVerifyReport('x', 'x.json', '')).toThrow(/^x\.json is not valid JSON \(.*\)$/);
    expect(() => parseVerifyReport('x', 'x.json', '{"passed": 3}')).toThrow('no "checks" list');
    expect(() => parseVerifyReport('x', 'x.json', '{"checks": [{"id": "a", "title": "A", "status": "ok"}]}')).toThrow('check a has status "ok", not pass, fail, warn or skip');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'labctl-class-report-'));
    dirs.push(dir);
    const empty = await labctlHere(['class', 'report', dir]);
    expect(empty.exitCode).toBe(2);
    expect(empty.stderr).toContain('no .json reports');
    await writeFile(path.join(dir, 'st1.json'), '{"checks": 1}');
    const bad = await labctlHere(['class', 'report', dir]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim().split('\n')[0]).toBe(`labctl: ${path.join(dir, 'st1.json')}: not a labctl verify --json report (no "checks" list)`);
    const missing = await labctlHere(['class', 'report', path.join(dir, 'nope')]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('no such directory');
  });
});
