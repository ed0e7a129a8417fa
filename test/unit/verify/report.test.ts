import { describe, expect, it } from 'vitest';
import { Chalk } from 'chalk';
import { renderChecklist, toJson } from '../../../src/verify/render.js';
import { runChecks, selectChecks, summarize } from '../../../src/verify/runner.js';
import { CATALOGUE, CHECK_IDS } from '../../../src/verify/catalogue.js';
import type { CheckDef, CheckResult, VerifyTarget } from '../../../src/verify/types.js';
import { LabError } from '../../../src/errors.js';

const result = (id: string, status: CheckResult['status']): CheckResult => ({
  id,
  title: `title of ${id}`,
  status,
  summary: `summary of ${id}`,
  ms: 12,
  evidence: [{ kind: 'command', label: 'exim -bV', command: 'exim -bV', exitCode: 0, text: 'Exim version 4.96' }],
});

// Pure-logic tests: the target is never touched by these checks.
const target = { view: { run: async () => ({ command: '', exitCode: 0, stdout: '', stderr: '' }), readFile: async () => undefined } } as unknown as VerifyTarget;

describe('the JSON report', () => {
  it('has exactly the shape of issue 4', () => {
    const report = summarize([result('a', 'pass'), result('b', 'fail'), result('c', 'warn'), result('d', 'skip'), result('e', 'pass')]);
    const parsed = JSON.parse(toJson(report));
    expect(Object.keys(parsed)).toEqual(['schemaVersion', 'checks', 'passed', 'failed', 'warned', 'skipped']);
    expect(parsed.schemaVersion).toBe(1);
    expect(parsed).toMatchObject({ passed: 2, failed: 1, warned: 1, skipped: 1 });
    for (const c of parsed.checks) expect(Object.keys(c)).toEqual(['id', 'title', 'status', 'summary', 'ms', 'evidence']);
    expect(parsed.checks[0].evidence[0]).toEqual({ kind: 'command', label: 'exim -bV', command: 'exim -bV', exitCode: 0, text: 'Exim version 4.96' });
  });

  it('drops fields that are not in the shape', () => {
    const extra = { ...result('a', 'pass'), secret: 'x' } as CheckResult;
    expect(toJson(summarize([extra]))).not.toContain('secret');
  });
});

describe('the catalogue', () => {
  it('has the ids issue 4 names, in task order', () => {
    expect(CHECK_IDS).toEqual([
      '1a-no-other-mta', '1b-current-release', '1c-signature', '1d-build-options', 'install-version', 'sendmail-link', 'daemon-listening',
      '3a-route-local', '3b-local-delivery', '3c-postmaster', '4a-dns-mx', '5a-backup-relay', 'relay-refused',
      // one side of a real pair
      'partner-mx', 'partner-rcpt', 'partner-starttls', 'partner-etrn',
      '6-starttls', '7a-smtps', '7b-tls-required', 'tls-policy', 'submission-auth-tls', 'submission-login', 'submission-relay-refused', 'spf-record', 'dkim-signature', 'queue', 'paniclog-empty',
      // issue 13
      'dmarc-record', 'dmarc-result', 'tls-rpt', 'mta-sts', 'ptr', 'dkim-key-match', 'dane-tlsa',
    ]);
  });

  it('is in the order of the list verify --help prints', () => {
    expect(CATALOGUE.map((c) => c.id)).toEqual(CHECK_IDS);
  });

  it('--only and --skip pick checks; unknown ids are a usage error (exit 2)', () => {
    const defs: CheckDef[] = ['x', 'y', 'z'].map((id) => ({ id, title: id, run: async () => ({ status: 'pass', summary: '' }) }));
    expect(selectChecks(defs, ['z', 'x']).map((d) => d.id)).toEqual(['x', 'z']);
    expect(selectChecks(defs, undefined, ['y']).map((d) => d.id)).toEqual(['x', 'z']);
    try {
      selectChecks(defs, ['nope']);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(LabError);
      expect((err as LabError).exitCode).toBe(2);
    }
  });
});

describe('the runner', () => {
  it('fails a check that runs past its timeout, keeps its evidence, and still runs the rest', async () => {
    let aborted = false;
    const hang: CheckDef = {
      id: 'hang',
      title: 'never ends',
      run: async (ctx) => {
        ctx.evidence.push({ kind: 'text', label: 'before the hang', text: 'collected' });
        ctx.signal.addEventListener('abort', () => (aborted = true));
        return new Promise(() => undefined);
      },
    };
    const quick: CheckDef = { id: 'quick', title: 'quick', run: async () => ({ status: 'pass', summary: 'fine' }) };
    const boom: CheckDef = { id: 'boom', title: 'throws', run: async () => { throw new Error('exploded'); } };
    const started = Date.now();
    const report = await runChecks(target, { timeoutMs: 200, concurrency: 1 }, [hang, quick, boom]);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([['hang', 'fail'], ['quick', 'pass'], ['boom', 'fail']]);
    expect(report.checks[0].summary).toMatch(/timed out after 200 ms/);
    expect(report.checks[0].ms).toBeGreaterThanOrEqual(195);
    expect(report.checks[0].evidence).toEqual([{ kind: 'text', label: 'before the hang', text: 'collected' }]);
    expect(report.checks[2].summary).toBe('error: exploded');
    expect(aborted).toBe(true);
    expect(report).toMatchObject({ passed: 1, failed: 2, warned: 0, skipped: 0 });
  });

  it('returns results in catalogue order whatever order they finish in', async () => {
    const slow: CheckDef = { id: 'slow', title: 's', run: () => new Promise((r) => setTimeout(() => r({ status: 'pass', summary: '' }), 100)) };
    const fast: CheckDef = { id: 'fast', title: 'f', run: async () => ({ status: 'skip', summary: 'n/a' }) };
    const report = await runChecks(target, { concurrency: 2 }, [slow, fast]);
    expect(report.checks.map((c) => c.id)).toEqual(['slow', 'fast']);
  });
});

describe('the checklist', () => {
  const report = summarize([result('1a-no-other-mta', 'pass'), result('6-starttls', 'fail')]);
  it('prints one line per check with its status and time, and the totals', () => {
    const text = renderChecklist(report, { chalk: new Chalk({ level: 0 }), totalMs: 1500 });
    expect(text).toContain('PASS  1a-no-other-mta summary of 1a-no-other-mta (12 ms)');
    expect(text).toContain('FAIL  6-starttls');
    expect(text).toMatch(/2 checks: 1 passed, 1 failed, 0 warned, 0 skipped in 1\.50 s/);
    expect(text).not.toContain('Exim version 4.96');
    expect(text).not.toMatch(/\u001b\[/);
  });
  it('--verbose adds the evidence under each check', () => {
    const text = renderChecklist(report, { chalk: new Chalk({ level: 0 }), verbose: true });
    expect(text).toContain('      --- exim -bV (command)\n        $ exim -bV\n        Exim version 4.96\n        (exit 0)');
  });
  it('colors when asked, and NO_COLOR turns it off', async () => {
    expect(renderChecklist(report, { chalk: new Chalk({ level: 1 }) })).toMatch(/\u001b\[/);
    const { makeChalk } = await import('../../../src/verify/render.js');
    const saved = process.env.NO_COLOR;
    process.env.NO_COLOR = '1';
    try {
      expect(makeChalk({ isTTY: true } as NodeJS.WriteStream).level).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = saved;
    }
  });
});
