import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerReport } from '../../../src/commands/report.js';
import { fixtureStore, SIGNER_FPR } from './fixture-store.js';
import { scratchLockDir } from '../../helpers/lock-dir.js';

scratchLockDir();

async function run(args: string[]): Promise<{ out: string; err: string }> {
  const program = new Command('labctl').exitOverride();
  registerReport(program);
  let out = '';
  let err = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (out += `${a.join(' ')}\n`));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (err += `${a.join(' ')}\n`));
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  try {
    await program.parseAsync(['node', 'labctl', 'report', ...args]);
  } finally {
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
  }
  return { out, err };
}

describe('labctl report', () => {
  let store: Awaited<ReturnType<typeof fixtureStore>>;
  beforeEach(async () => {
    store = await fixtureStore();
  });
  afterEach(async () => {
    await store.cleanup();
  });

  it('writes report.md and report.html from the store and says what it wrote', async () => {
    const md = path.join(store.stateDir, 'out/report.md');
    const html = path.join(store.stateDir, 'out/report.html');
    const { out } = await run(['--out', md, '--html', html]);
    expect(out).toContain(`wrote ${md}`);
    expect(out).toContain(`wrote ${html}`);
    expect(out).toMatch(/47 evidence records: \d+ pass, 0 fail, 1 warn, 0 skipped, 0 missing/);
    expect(await fs.readFile(md, 'utf8')).toContain(SIGNER_FPR);
    expect(await fs.readFile(html, 'utf8')).toContain('id="timeline-svg"');
  });

  it('prints Markdown with --out - and writes no HTML with --no-html', async () => {
    const cwd = process.cwd();
    process.chdir(store.stateDir);
    try {
      const { out, err } = await run(['--out', '-', '--no-html', '--host', 'st18']);
      expect(out.startsWith('# Lab 3: MTA (Exim), lab report for st18\n')).toBe(true);
      expect(err).toMatch(/evidence records/);
      expect(await fs.readdir(store.stateDir)).toEqual(['evidence']);
    } finally {
      process.chdir(cwd);
    }
  });

  it('names each missing item and its command', async () => {
    await fs.rm(path.join(store.evidenceDir, 'lab'), { recursive: true });
    const { out } = await run(['--out', path.join(store.stateDir, 'r.md'), '--no-html']);
    expect(out).toContain('  missing lab/topology: run labctl lab up');
  });

  it('refuses a host name that is not one', async () => {
    await expect(run(['--host', '../etc', '--no-html'])).rejects.toThrow(/is not a lab host name/);
  });
});
